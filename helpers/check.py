"""Set-up check: one ✓/✗ line per requirement (``python -m helpers check``)."""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import sys
from dataclasses import dataclass

__all__ = ["Check", "check_setup", "format_checks", "REQUIREMENTS"]

#: (import name, distribution name, minimum version) of what the notebooks need.
REQUIREMENTS = [
    ("numpy", "numpy", "1.24"),
    ("scipy", "scipy", "1.10"),
    ("skimage", "scikit-image", "0.22"),
    ("sklearn", "scikit-learn", "1.3"),
    ("matplotlib", "matplotlib", "3.7"),
    ("pandas", "pandas", "2.0"),
    ("PIL", "pillow", "10.0"),
    ("tifffile", "tifffile", "2023.1"),
    ("joblib", "joblib", "1.3"),
    ("tqdm", "tqdm", "4.65"),
    ("pooch", "pooch", "1.7"),
    ("kagglehub", "kagglehub", "0.3"),
    ("psutil", "psutil", "5.9"),
    ("jupyterlab", "jupyterlab", "4.0"),
    ("ipykernel", "ipykernel", "6.0"),
    ("nbval", "nbval", "0.11"),
]

MIN_MEMORY_GB = 1.5


@dataclass
class Check:
    """One requirement: ``ok`` (True/False), ``name``, ``detail``; ``warn_only`` checks never fail the run."""

    ok: bool
    name: str
    detail: str
    warn_only: bool = False

    def line(self) -> str:
        mark = "✓" if self.ok else ("!" if self.warn_only else "✗")
        return f"{mark} {self.name}: {self.detail}"


def _version_tuple(v: str) -> tuple:
    parts = []
    for p in v.split("."):
        digits = "".join(ch for ch in p if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _package_check(module: str, dist: str, minimum: str) -> Check:
    from importlib import metadata

    try:
        importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken install
        return Check(False, dist, f"cannot import {module} ({type(exc).__name__}). Run: pip install -e .")
    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        version = getattr(sys.modules[module], "__version__", "?")
    if version != "?" and _version_tuple(version) < _version_tuple(minimum):
        return Check(False, dist, f"{version} is older than {minimum}. Run: pip install -U {dist}")
    return Check(True, dist, version)


def _kernel_check() -> Check:
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        specs = KernelSpecManager().find_kernel_specs()
    except Exception as exc:
        return Check(False, "Jupyter kernel", f"cannot list kernels ({type(exc).__name__}: {exc})")
    if "python3" in specs:
        return Check(True, "Jupyter kernel", f"python3 ({specs['python3']})")
    return Check(False, "Jupyter kernel", "no 'python3' kernel. Run: python -m ipykernel install --user")


def _memory_check() -> Check:
    import psutil

    avail = psutil.virtual_memory().available / 2**30
    ok = avail >= MIN_MEMORY_GB
    detail = f"{avail:.1f} GB available (the notebooks need about {MIN_MEMORY_GB} GB)"
    return Check(ok, "free memory", detail if ok else detail + ". Close other programs.", warn_only=True)


def _disk_check() -> Check:
    from ._common import cache_dir

    free = shutil.disk_usage(cache_dir()).free / 2**30
    return Check(free >= 1.0, "free disk (cache)", f"{free:.1f} GB in {cache_dir()}", warn_only=True)


def _idc_check() -> Check:
    from ._common import demo_forced
    from .data import HOW_TO_GET_IDC, find_idc

    if demo_forced():
        return Check(False, "IDC data", "HISTO_DEMO is set: notebooks use SYNTHETIC demo data.", warn_only=True)
    try:
        src = find_idc(allow_download=False, allow_demo=False)
    except Exception as exc:
        return Check(
            False,
            "IDC data",
            f"not found — notebooks will fall back to SYNTHETIC demo data. To get it: {HOW_TO_GET_IDC}"
            if "No IDC data found" in str(exc) else str(exc),
            warn_only=True,
        )
    return Check(True, "IDC data", f"{src.kind}: {src.root}")


def _kather_check() -> Check:
    try:
        from . import kather
    except ImportError:
        return Check(False, "Kather 2016 data", "helpers.kather is missing", warn_only=True)
    status = getattr(kather, "kather_status", None)
    if status is None:
        return Check(False, "Kather 2016 data", "helpers.kather has no kather_status()", warn_only=True)
    try:
        ok, detail = status()
    except Exception as exc:
        return Check(False, "Kather 2016 data", f"{type(exc).__name__}: {exc}", warn_only=True)
    return Check(bool(ok), "Kather 2016 data", detail, warn_only=True)


def check_setup() -> list[Check]:
    """Run every check and return them (nothing is printed; see :func:`format_checks`)."""
    checks = [
        Check(sys.version_info >= (3, 10), "Python", f"{platform.python_version()} ({sys.executable})"),
    ]
    checks += [_package_check(*req) for req in REQUIREMENTS]
    try:
        import helpers

        checks.append(Check(True, "helpers", f"{helpers.__version__} from {os.path.dirname(helpers.__file__)}"))
    except Exception as exc:  # pragma: no cover - we are inside helpers
        checks.append(Check(False, "helpers", str(exc)))
    checks += [_kernel_check(), _memory_check(), _disk_check(), _idc_check(), _kather_check()]
    return checks


def format_checks(checks: list[Check]) -> str:
    """The report as text: one line per check and a last line with the verdict."""
    failed = [c for c in checks if not c.ok and not c.warn_only]
    warned = [c for c in checks if not c.ok and c.warn_only]
    lines = [c.line() for c in checks]
    if failed:
        lines.append(f"{len(failed)} requirement(s) missing: fix the ✗ lines above.")
    else:
        lines.append("All requirements met." + (f" {len(warned)} note(s) marked !." if warned else ""))
    return "\n".join(lines)
