"""Helpers for the workshop "Machine learning for histopathological image analysis".

``load_idc`` and ``load_kather`` find and load the two data sets (see :mod:`helpers.data`); the other modules
are imported by name: ``splits``, ``features``, ``evaluation``, ``models``, ``stain``, ``slides``, ``plots``;
``python -m helpers --help`` lists the instructor commands (check, prepare, features, baseline).
"""

from .data import DataError, PatchData, load_idc, load_kather

__version__ = "0.2.0"

__all__ = ["DataError", "PatchData", "load_idc", "load_kather", "__version__"]
