"""Helpers for the workshop "Machine learning for histopathological image analysis".

Modules
-------
data      IDC patches: find, index, subsample, decode, cache (:func:`helpers.load_idc`).
demo      deterministic synthetic IDC-like data (offline fallback, tests).
splits    patient-level splits, including the published 162-patient split.
features  batched hand-crafted features as scikit-learn transformers.
models    the reference pipeline (``python -m helpers baseline``).
plots     figures shared by the notebooks.
kather    the Kather 2016 colorectal texture tiles (multi-class track).
slides    whole-slide mosaics and heatmaps rebuilt from patch coordinates.
stain     stain normalisation and colour augmentation.
check     the set-up check (``python -m helpers check``).
"""

from ._common import DataError, DemoDataWarning
from .data import IDCData, find_idc, index_idc, load_idc, read_patches
from .splits import published_split, train_test_split_by_patient

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "DemoDataWarning",
    "IDCData",
    "find_idc",
    "index_idc",
    "load_idc",
    "read_patches",
    "published_split",
    "train_test_split_by_patient",
    "__version__",
]
