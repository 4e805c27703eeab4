"""Pieces shared by the data modules: cache folder, repository data folder, errors, banners.

Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

__all__ = [
    "DataError",
    "DemoDataWarning",
    "cache_dir",
    "repo_data_dir",
    "demo_forced",
    "demo_banner",
    "warn_demo",
    "stable_hash",
    "kagglehub_cached",
]


class DataError(RuntimeError):
    """A data set is missing, unreadable or laid out in an unexpected way.

    The message always says what is wrong and what to do about it.
    """


class DemoDataWarning(UserWarning):
    """Raised (as a warning) whenever synthetic demo data stands in for real data."""


def cache_dir(*parts: str) -> Path:
    """Folder for caches (decoded arrays, features, demo data).

    ``$HISTO_CACHE_DIR`` if set, else the operating system's user cache folder
    (via :func:`pooch.os_cache`). Created on demand.
    """
    env = os.environ.get("HISTO_CACHE_DIR")
    if env:
        base = Path(env).expanduser()
    else:
        import pooch

        base = Path(pooch.os_cache("histo-workshop"))
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def repo_data_dir() -> Path:
    """The workshop's ``data/`` folder.

    ``$HISTO_DATA_DIR`` if set, else the ``data/`` folder next to the ``helpers``
    package (the repository checkout, for an editable install).
    """
    env = os.environ.get("HISTO_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent / "data"


def demo_forced() -> bool:
    """True when ``$HISTO_DEMO`` asks for the synthetic demo data (``1``, ``true``, ``yes``)."""
    return os.environ.get("HISTO_DEMO", "").strip().lower() in {"1", "true", "yes", "on"}


def demo_banner(dataset: str, reason: str, how_to_get: str) -> str:
    """Text of the banner shown whenever demo data is used instead of real data."""
    line = "=" * 78
    return (
        f"\n{line}\n"
        f"  DEMO DATA — synthetic {dataset}, NOT real patients.\n"
        f"  Every number computed on it is a teaching illustration, not a medical result.\n"
        f"  Why: {reason}\n"
        f"  To use the real data: {how_to_get}\n"
        f"{line}\n"
    )


def warn_demo(dataset: str, reason: str, how_to_get: str) -> str:
    """Emit the demo banner as a :class:`DemoDataWarning` (visible in Jupyter) and return it."""
    text = demo_banner(dataset, reason, how_to_get)
    warnings.warn(text, DemoDataWarning, stacklevel=3)
    return text


def stable_hash(*items: object) -> str:
    """Short hex digest of the ``repr`` of ``items`` (stable across runs)."""
    h = hashlib.sha1()
    for item in items:
        h.update(repr(item).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def kagglehub_cached(handle: str) -> Path | None:
    """Folder of a *versioned* kagglehub dataset handle if kagglehub's cache holds it complete, else ``None``.

    Never touches the network (an unversioned handle is not looked up: it would need the Kaggle API).
    """
    try:
        from kagglehub import cache
        from kagglehub.handle import parse_dataset_handle

        h = parse_dataset_handle(handle)
        if not h.is_versioned():
            return None
        if hasattr(cache, "Cache"):  # kagglehub >= 0.4
            found = cache.Cache().load_from_cache(h)
        else:  # older kagglehub
            found = cache.load_from_cache(h)
    except Exception:
        return None
    return Path(found) if found else None
