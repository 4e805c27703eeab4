"""Benchmark: decode the IDC sample the first time, then from the cache (issue: < 10 s first, < 1 s cached).

    HISTO_IDC_DIR=../shared/data/idc python benchmarks/bench_loading.py [--runs 3]

Each run uses a fresh, empty cache folder for the first load, then loads again from it. Prints seconds and
patches/s; exits 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import psutil


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.environ.get("HISTO_IDC_DIR"), help="IDC folder (default HISTO_IDC_DIR)")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    if not args.data:
        print("Set HISTO_IDC_DIR or pass --data.", file=sys.stderr)
        return 2
    import helpers

    firsts, cached = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as cache:
            os.environ["HISTO_CACHE_DIR"] = cache
            t0 = time.perf_counter()
            data = helpers.load_idc(args.data, progress=True)
            firsts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = helpers.load_idc(args.data, progress=False)
            cached.append(time.perf_counter() - t0)
            assert len(again) == len(data)
    n = len(data)
    rss = psutil.Process().memory_info().rss / 2**20
    print(f"patches: {n:,} ({data.images.nbytes / 2**20:.0f} MiB decoded), cores: {os.cpu_count()}")
    print(f"first load (index + decode + cache write): best {min(firsts):.2f} s, median "
          f"{sorted(firsts)[len(firsts) // 2]:.2f} s = {n / min(firsts):,.0f} patches/s   goal < 10 s")
    print(f"from the cache:                            best {min(cached):.2f} s, median "
          f"{sorted(cached)[len(cached) // 2]:.2f} s   goal < 1 s")
    print(f"resident memory at the end: {rss:.0f} MiB")
    ok = min(firsts) < 10 and sorted(cached)[len(cached) // 2] < 1
    print("goals met" if ok else "GOAL MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
