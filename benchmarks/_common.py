"""Shared helpers of the benchmark scripts (not a test module)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def idc_dir() -> Path:
    path = os.environ.get("HISTO_IDC_DIR")
    if not path or not Path(path).is_dir():
        sys.exit("Set HISTO_IDC_DIR to the shared IDC sample (e.g. /work/shared/data/idc).")
    return Path(path)


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def tree_cpu() -> float:
    """CPU seconds used so far by this process and its live children (e.g. joblib workers)."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total
