"""Patient-level splits of the IDC data: never split by patch.

Patches of one patient look alike (same stain, same scanner, neighbouring tissue). A split that puts patches of one
patient on both sides measures memory of that patient, not generalisation to new ones.

The published split
-------------------
:data:`PUBLISHED_SPLIT` holds the 162-patient train / validation / test split (84 / 29 / 49 patient ids) used by

- Cruz-Roa A, Basavanhally A, González F, et al. Automatic detection of invasive ductal carcinoma in whole slide
  images with convolutional neural networks. Proc. SPIE 9041, Medical Imaging 2014: Digital Pathology, 904103.
  doi:10.1117/12.2043872
- Janowczyk A, Madabhushi A. Deep learning for digital pathology image analysis: A comprehensive tutorial with
  selected use cases. J Pathol Inform 2016;7:29. doi:10.4103/2153-3539.186902 (IDC use case; the lists
  ``cases_train.txt``, ``cases_val.txt``, ``cases_test.txt`` of its tutorial code).

The Kaggle copy has 279 patient folders; 117 of them are in none of these lists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "PUBLISHED_SPLIT",
    "published_split",
    "published_split_masks",
    "patient_table",
    "train_test_split_by_patient",
    "patient_cv",
]

PUBLISHED_SPLIT: dict[str, tuple[str, ...]] = {
    "train": (
    "10304", "9346", "9029", "12911", "9043", "9044", "12884", "12752", "12819", "12890", "9024", "9124", "9178",
    "10291", "12871", "9257", "9323", "8974", "10302", "12932", "9266", "9325", "10285", "14079", "14304", "9037",
    "8980", "10264", "12749", "12891", "8915", "15633", "13024", "10288", "9081", "12820", "12930", "9255",
    "12882", "9267", "9177", "8865", "10262", "8957", "12811", "12901", "9259", "13692", "14213", "12931", "10256",
    "10254", "9174", "9041", "9175", "9321", "12818", "8951", "9173", "9126", "12872", "10275", "12900", "10293",
    "10308", "10268", "12869", "9320", "9228", "8975", "10258", "8955", "13689", "9256", "14212", "9383", "12822",
    "9123", "9265", "9083", "12750", "10257", "8913", "15902",
    ),
    "val": (
    "13688", "9381", "16554", "12867", "12880", "9076", "12626", "10299", "8959", "9023", "15473", "12896",
    "13591", "13461", "9078", "9324", "9022", "8956", "9036", "10260", "10269", "10261", "8917", "10277", "12875",
    "16896", "9345", "8914", "8867",
    ),
    "test": (
    "12909", "9382", "9075", "9290", "12881", "12895", "8864", "14191", "10259", "10274", "10303", "12907", "9225",
    "13402", "10295", "10306", "9176", "13023", "12821", "10307", "9322", "9073", "12905", "13106", "12906",
    "13401", "13403", "10292", "9261", "8916", "8918", "9254", "15515", "13458", "16550", "9250", "9347", "14081",
    "12826", "13460", "10276", "10273", "14189", "9181", "13687", "10286", "10255", "10301", "9125",
    ),
}


def published_split() -> dict[str, list[str]]:
    """The published 84 / 29 / 49 patient split as lists of patient ids (str); see the module docstring."""
    return {name: list(ids) for name, ids in PUBLISHED_SPLIT.items()}


def published_split_masks(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Boolean masks over ``table`` rows for the published ``train``, ``val``, ``test`` patients and ``other``.

    ``other`` marks patients in none of the three lists. Use ``masks["test"].any()`` to know whether any
    published test patient is present.
    """
    patients = table["patient"].astype(str)
    masks = {name: patients.isin(set(ids)).to_numpy() for name, ids in PUBLISHED_SPLIT.items()}
    masks["other"] = ~(masks["train"] | masks["val"] | masks["test"])
    return masks


def patient_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per patient: ``n_patches``, ``n_idc`` (class-1 patches) and ``idc_fraction``, indexed by patient."""
    g = table.groupby("patient", sort=False)["label"]
    out = pd.DataFrame({"n_patches": g.size(), "n_idc": g.sum().astype(int)})
    out["idc_fraction"] = out["n_idc"] / out["n_patches"]
    return out


def _strata(patients: pd.DataFrame) -> np.ndarray:
    """Patient strata by IDC fraction: none, low, high (median split of the patients that have IDC)."""
    frac = patients["idc_fraction"].to_numpy()
    strata = np.zeros(len(frac), dtype=int)
    pos = frac > 0
    if pos.any():
        med = np.median(frac[pos])
        strata[pos & (frac <= med)] = 1
        strata[pos & (frac > med)] = 2
    return strata


def train_test_split_by_patient(table: pd.DataFrame, test_size: float = 0.25, seed: int = 0):
    """Split patches into train and test **by patient**, stratified by each patient's share of IDC patches.

    Parameters
    ----------
    table : DataFrame with ``patient`` and ``label`` columns (one row per patch).
    test_size : float in (0, 1)
        Fraction of patients (not patches) that go to the test side.
    seed : int

    Returns
    -------
    train_mask, test_mask : ndarray of bool, shape (n_patches,)
        Complementary masks; no patient is on both sides.
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, not {test_size}")
    patients = patient_table(table)
    if len(patients) < 2:
        raise ValueError("A patient-level split needs at least 2 patients; this table has "
                         f"{len(patients)}.")
    rng = np.random.default_rng(seed)
    strata = _strata(patients)
    test_patients = []
    ids = patients.index.to_numpy()
    for s in np.unique(strata):
        members = ids[strata == s]
        members = members[rng.permutation(len(members))]
        k = int(round(test_size * len(members)))
        test_patients.extend(members[:k])
    n_test = len(test_patients)
    if n_test == 0 or n_test == len(ids):  # tiny tables: force both sides non-empty
        order = ids[rng.permutation(len(ids))]
        test_patients = list(order[: max(1, min(len(ids) - 1, int(round(test_size * len(ids)))))])
    test_mask = table["patient"].isin(set(test_patients)).to_numpy()
    return ~test_mask, test_mask


def patient_cv(n_splits: int = 5, seed: int = 0):
    """Cross-validation splitter grouped by patient and stratified by class: ``StratifiedGroupKFold``.

    Pass ``groups=table.patient`` to ``split`` / ``cross_validate`` / ``GridSearchCV.fit``.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
