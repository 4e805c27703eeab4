"""Build the compact workshop subset of the IDC data under ``data/idc_subset`` (``python -m helpers prepare``).

Instructors run it before the day (Wi-Fi fails); Binder's ``postBuild`` runs it too. The subset keeps the Kaggle
layout, so everything that reads a full download reads it, and a ``manifest.json`` says where it came from.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from ._common import DataError, repo_data_dir

__all__ = ["prepare_subset", "default_subset_dir"]


def default_subset_dir() -> Path:
    from .data import PREPARED_SUBSET

    return repo_data_dir() / PREPARED_SUBSET


def prepare_subset(
    source=None,
    out=None,
    *,
    max_patches: int = 20_000,
    max_per_patient: int | None = None,
    seed: int = 0,
    download: bool = False,
    force: bool = False,
    progress: bool = True,
) -> dict:
    """Copy a patient-stratified subset of an IDC folder into ``out`` and write its manifest.

    Parameters
    ----------
    source : path-like, optional
        Any IDC folder in the Kaggle layout (a full download works: its duplicate tree is counted once). Default:
        ``HISTO_IDC_DIR``, else the kagglehub cache, else (with ``download=True``) a kagglehub download.
    out : path-like, optional
        Default ``data/idc_subset`` in the repository.
    max_patches, max_per_patient, seed
        See :func:`helpers.data.subsample`.
    force : bool
        Replace an existing subset (otherwise an existing one is an error: nothing is overwritten silently).

    Returns
    -------
    dict
        The manifest (also written to ``out/manifest.json``; the patch list to ``out/patches.csv``).
    """
    from tqdm.auto import tqdm

    from .data import find_idc, index_idc, subsample

    out = Path(out) if out is not None else default_subset_dir()
    if source is None:
        src = find_idc(None, allow_download=download, allow_demo=False)
        if src.kind == "prepared subset":
            raise DataError(
                f"The only IDC data found is the prepared subset {src.root} itself. Give --source DIR (a full "
                "download) or --download."
            )
        source = src.root
    source = Path(source)
    if out.exists() and any(out.iterdir()):
        if not force:
            raise DataError(f"{out} already exists. Use --force to replace it, or --out to write elsewhere.")
        if not (out / "manifest.json").exists():
            raise DataError(f"{out} exists and is not a prepared subset (no manifest.json); not touching it.")
    t0 = time.perf_counter()
    table = index_idc(source)
    sub = subsample(table, max_patches=max_patches, max_per_patient=max_per_patient, seed=seed)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    rel_paths = []
    for row in tqdm(sub.itertuples(index=False), total=len(sub), desc="Copying patches", unit="patch",
                    disable=not progress):
        rel = Path(row.patient) / str(row.label) / Path(row.path).name
        (tmp / rel.parent).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(row.path, tmp / rel)
        rel_paths.append(str(rel))
    sub = sub.assign(path=rel_paths)
    sub.to_csv(tmp / "patches.csv", index=False)
    manifest = {
        "source": str(source),
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "max_patches": max_patches,
        "max_per_patient": max_per_patient,
        "seed": seed,
        "n_source_patches": int(len(table)),
        "n_source_patients": int(table["patient"].nunique()),
        "n_duplicates_ignored": int(table.attrs.get("n_duplicates", 0)),
        "n_patches": int(len(sub)),
        "n_patients": int(sub["patient"].nunique()),
        "n_idc": int(sub["label"].sum()),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(out)
    manifest["out"] = str(out)
    return manifest
