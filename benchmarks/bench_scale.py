"""Scale: ``python -m helpers features`` over as many patches as the full IDC data set (277,524).

Builds a folder of symbolic links that repeats the shared sample under new patient ids (``<k><patient>``) until it
holds 277,524 patches, runs the command on it (2 workers; decoding, features and writing the .npz included) and prints
wall time, patches/s, CPU time, load average and peak resident memory (sum over the command's process tree, sampled
every 0.1 s). On a shared machine read the CPU time: on an idle 2-core machine the wall time is about half of it.

Goal: < 3 minutes and < 1.5 GB on 2 cores.

Usage: ``HISTO_IDC_DIR=/path/to/idc python benchmarks/bench_scale.py [--n 277524] [--work /tmp/idc-scale]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from _common import idc_dir, load_average

FULL_SIZE = 277_524


def build_tree(src_table, root: Path, n: int) -> int:
    """Symlink ``n`` patches under ``root``: copy k of patient P becomes patient ``<k+1>P`` (same files)."""
    shutil.rmtree(root, ignore_errors=True)
    made = 0
    k = 0
    rows = list(src_table.itertuples(index=False))
    while made < n:
        for r in rows:
            if made >= n:
                break
            pid = f"{k + 1}{r.patient}"
            folder = root / pid / str(r.label)
            folder.mkdir(parents=True, exist_ok=True)
            os.symlink(r.path, folder / f"{pid}_idx5_x{r.x}_y{r.y}_class{r.label}.png")
            made += 1
        k += 1
    return made


def run_monitored(cmd):
    proc = psutil.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak_total = 0
    peak_single = 0
    cpu = {}
    stop = threading.Event()

    def sample():
        nonlocal peak_total, peak_single
        while not stop.is_set():
            try:
                procs = [proc] + proc.children(recursive=True)
            except psutil.NoSuchProcess:
                break
            total = 0
            for q in procs:
                try:
                    rss = q.memory_info().rss
                    t = q.cpu_times()
                    cpu[q.pid] = t.user + t.system
                except psutil.NoSuchProcess:
                    continue
                total += rss
                peak_single = max(peak_single, rss)
            peak_total = max(peak_total, total)
            time.sleep(0.1)

    th = threading.Thread(target=sample, daemon=True)
    t0 = time.perf_counter()
    th.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    return proc.returncode, out, wall, peak_total, peak_single, sum(cpu.values())


def main():
    from helpers.data import index_idc

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=FULL_SIZE)
    p.add_argument("--work", default="/tmp/idc-scale", help="scratch folder (symlinks and output)")
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--keep", action="store_true", help="keep the symlink tree")
    args = p.parse_args()

    work = Path(args.work)
    table = index_idc(idc_dir(), read_sizes=False)
    t = time.perf_counter()
    n = build_tree(table, work / "idc", args.n)
    print(f"built {n:,} symlinked patches ({work / 'idc'}) in {time.perf_counter() - t:.0f} s; "
          f"load average {load_average()}")
    cmd = [sys.executable, "-m", "helpers", "features", "--data", str(work / "idc"), "--out",
           str(work / "features.npz"), "--n-jobs", str(args.n_jobs), "--no-progress"]
    rc, out, wall, peak_total, peak_single, cpu = run_monitored(cmd)
    print(out.strip())
    if rc != 0:
        sys.exit(f"command failed with exit code {rc}")
    print(f"wall time: {wall:.0f} s for {n:,} patches = {n / wall:,.0f} patches/s (goal: < 180 s)")
    print(f"CPU time of the process tree: {cpu:.0f} s = {n / cpu:,.0f} patches per CPU-second "
          f"(on an otherwise idle 2-core machine: about {cpu / 2:.0f} s wall)")
    print(f"peak resident memory: {peak_total / 2**20:,.0f} MB summed over the process tree "
          f"(largest single process {peak_single / 2**20:,.0f} MB; goal: < 1,536 MB)")
    print(f"load average after: {load_average()}")
    if not args.keep:
        shutil.rmtree(work / "idc", ignore_errors=True)


if __name__ == "__main__":
    main()
