"""Patient-level splits of the IDC data: never split by patch.

A split with a patient on both sides measures memory of that patient, not generalisation: patches of one patient
look alike. :data:`PUBLISHED_SPLIT` is the 84 / 29 / 49 patient train / validation / test split of
- Cruz-Roa A, Basavanhally A, González F, et al. Automatic detection of invasive ductal carcinoma in whole slide
  images with convolutional neural networks. Proc. SPIE 9041, Medical Imaging 2014: Digital Pathology, 904103.
  doi:10.1117/12.2043872
- Janowczyk A, Madabhushi A. Deep learning for digital pathology image analysis: A comprehensive tutorial with
  selected use cases. J Pathol Inform 2016;7:29. doi:10.4103/2153-3539.186902 (IDC use case; the lists
  ``cases_train.txt``, ``cases_val.txt``, ``cases_test.txt`` of its tutorial code).
The Kaggle copy has 279 patient folders; 117 are in none of these lists. The workshop's protocol: **test patients** =
the published test patients present (used once, for the final number); **development patients** = all others.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PUBLISHED_SPLIT", "published_split", "published_split_masks", "development_test_split",
           "patient_table", "train_test_split_by_patient", "patient_cv"]

PUBLISHED_SPLIT: dict[str, tuple[str, ...]] = {name: tuple(ids.split()) for name, ids in {
    "train": """10304 9346 9029 12911 9043 9044 12884 12752 12819 12890 9024 9124 9178 10291 12871 9257 9323 8974 10302
        12932 9266 9325 10285 14079 14304 9037 8980 10264 12749 12891 8915 15633 13024 10288 9081 12820 12930
        9255 12882 9267 9177 8865 10262 8957 12811 12901 9259 13692 14213 12931 10256 10254 9174 9041 9175 9321
        12818 8951 9173 9126 12872 10275 12900 10293 10308 10268 12869 9320 9228 8975 10258 8955 13689 9256
        14212 9383 12822 9123 9265 9083 12750 10257 8913 15902""",
    "val": """13688 9381 16554 12867 12880 9076 12626 10299 8959 9023 15473 12896 13591 13461 9078 9324 9022 8956 9036
        10260 10269 10261 8917 10277 12875 16896 9345 8914 8867""",
    "test": """12909 9382 9075 9290 12881 12895 8864 14191 10259 10274 10303 12907 9225 13402 10295 10306 9176 13023
        12821 10307 9322 9073 12905 13106 12906 13401 13403 10292 9261 8916 8918 9254 15515 13458 16550 9250
        9347 14081 12826 13460 10276 10273 14189 9181 13687 10286 10255 10301 9125""",
}.items()}


def published_split() -> dict[str, list[str]]:
    """The published 84 / 29 / 49 patient split as lists of patient ids (str); see the module docstring."""
    return {name: list(ids) for name, ids in PUBLISHED_SPLIT.items()}


def published_split_masks(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Bool masks (n,) over ``table`` rows (``patient`` column): published ``train``, ``val``, ``test``; ``other``."""
    patients = table["patient"].astype(str)
    masks = {name: patients.isin(set(ids)).to_numpy() for name, ids in PUBLISHED_SPLIT.items()}
    masks["other"] = ~(masks["train"] | masks["val"] | masks["test"])
    return masks


def development_test_split(table: pd.DataFrame, *, fallback_test_size: float = 0.25, random_state: int = 0):
    """Development and test rows, bool arrays (n,): test = the published test patients present, development = others.

    ``table``: DataFrame with ``patient`` and ``label`` columns, one row per patch. When no published test patient (or
    only those) is present: :func:`train_test_split_by_patient` with ``fallback_test_size`` and ``random_state``.
    """
    test = published_split_masks(table)["test"]
    if not test.any() or test.all():  # no published test patient, or only test patients: a split by patient
        return train_test_split_by_patient(table, fallback_test_size, random_state=random_state)
    return ~test, test


def patient_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per patient: ``n_patches``, ``n_idc`` (class-1 patches) and ``idc_fraction``, indexed by patient."""
    g = table.groupby("patient", sort=False)["label"]
    out = pd.DataFrame({"n_patches": g.size(), "n_idc": g.sum().astype(int)})
    out["idc_fraction"] = out["n_idc"] / out["n_patches"]
    return out


def train_test_split_by_patient(table: pd.DataFrame, test_size: float = 0.25, *, random_state: int = 0):
    """Split patches into train and test **by patient**, stratified by each patient's share of IDC patches.

    ``table``: DataFrame with ``patient`` and ``label`` columns, one row per patch. ``test_size`` (0 < . < 1) of the
    patients of each stratum (no IDC; IDC share at most / above the median of those with IDC) go to the test side.
    Returns ``train_mask, test_mask``: complementary bool arrays (n,); no patient is on both sides.
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, not {test_size}")
    patients = patient_table(table)
    if len(patients) < 2:
        raise ValueError(f"A patient-level split needs at least 2 patients; this table has {len(patients)}.")
    rng, frac, ids = np.random.default_rng(random_state), patients["idc_fraction"].to_numpy(), patients.index.to_numpy()
    strata = (frac > 0).astype(int)
    if strata.any():
        strata[frac > np.median(frac[frac > 0])] = 2
    test_patients = []
    for s in np.unique(strata):
        members = rng.permutation(ids[strata == s])
        test_patients.extend(members[: int(round(test_size * len(members)))])
    if len(test_patients) in (0, len(ids)):  # tiny tables: force both sides non-empty
        test_patients = rng.permutation(ids)[: max(1, min(len(ids) - 1, round(test_size * len(ids))))]
    test_mask = table["patient"].isin(set(test_patients)).to_numpy()
    return ~test_mask, test_mask


class _RepeatedPatientCV:
    """``n_repeats`` differently shuffled ``StratifiedGroupKFold`` s, one after the other (see :func:`patient_cv`)."""

    def __init__(self, n_splits: int, n_repeats: int, random_state: int):
        self.n_splits, self.n_repeats, self.random_state = n_splits, n_repeats, random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits * self.n_repeats

    def split(self, X, y, groups):
        for r in range(self.n_repeats):
            yield from patient_cv(self.n_splits, random_state=self.random_state + r).split(X, y, groups)


def patient_cv(n_splits: int = 5, *, n_repeats: int = 1, random_state: int = 0):
    """Cross-validation grouped by patient (and stratified by class): ``StratifiedGroupKFold(shuffle=True)``.

    Pass ``groups=`` (patient of each patch) to ``split`` / ``cross_validate`` / ``GridSearchCV.fit``: every patient
    is in one test fold per repeat. ``n_repeats > 1`` chains differently shuffled splitters (fold ``i`` belongs to
    repeat ``i // n_splits``): repeated CV for :func:`helpers.evaluation.compare_to_baseline`.
    """
    from sklearn.model_selection import StratifiedGroupKFold
    if n_repeats > 1:
        return _RepeatedPatientCV(n_splits, n_repeats, random_state)
    return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
