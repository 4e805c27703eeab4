"""Workshop memory: peak resident memory of each notebook run top to bottom with its default settings.

Runs every notebook (``notebooks/`` by default: the student versions, exercises unsolved; ``--solutions`` for the
solved ones) in a fresh kernel with nbclient, samples the resident memory of the kernel's process tree (kernel +
joblib workers) every 0.1 s and prints the peak per notebook. Goal: < 1.5 GB each (Binder's limit is 2 GB).

Usage: ``HISTO_IDC_DIR=/path/to/idc python benchmarks/bench_memory.py [--solutions] [NOTEBOOK ...]``
(without HISTO_IDC_DIR the notebooks run on whatever data ``helpers`` finds, possibly the demo data).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

import psutil

from _common import load_average

REPO = Path(__file__).resolve().parent.parent
LIMIT_MB = 1536


def run_notebook(path: Path, timeout: int = 900):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        while not stop.is_set():
            total = 0
            for q in me.children(recursive=True):
                if q.pid in before:
                    continue
                try:
                    total += q.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            peak = max(peak, total)
            time.sleep(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    error = None
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception as exc:  # report and go on with the next notebook
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    return peak / 2**20, wall, error


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("notebooks", nargs="*", help="notebooks to run (default: all of notebooks/ or solutions/)")
    p.add_argument("--solutions", action="store_true", help="run solutions/ instead of notebooks/")
    args = p.parse_args()
    folder = REPO / ("solutions" if args.solutions else "notebooks")
    paths = [Path(n) for n in args.notebooks] or sorted(folder.glob("*.ipynb"))
    print(f"data: HISTO_IDC_DIR={os.environ.get('HISTO_IDC_DIR', '(unset)')}; load average {load_average()}")
    worst = 0.0
    for nb in paths:
        peak, wall, error = run_notebook(nb)
        worst = max(worst, peak)
        flag = "ok" if peak < LIMIT_MB and error is None else ("ERROR " + error if error else "OVER")
        print(f"{nb.name:45s} peak {peak:7,.0f} MB  {wall:6.0f} s  {flag}", flush=True)
    print(f"largest peak: {worst:,.0f} MB (goal: < {LIMIT_MB:,} MB)")


if __name__ == "__main__":
    main()
