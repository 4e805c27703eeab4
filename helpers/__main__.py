"""Instructor command line: ``python -m helpers <command>``.

Commands
--------
check      one ✓/✗ line per requirement; exit code 1 on a ✗
prepare    build the workshop subset under data/idc_subset (before the day, or in Binder's postBuild)
demo       generate the synthetic demo data (offline fallback) and say where it is
features   extract the default feature set of an IDC folder to a .npz (helpers.features)
baseline   train the reference pipeline on one folder's patients, report on another's (helpers.models)
kather     Kather 2016 data commands (helpers.kather)
"""

from __future__ import annotations

import argparse
import importlib
import sys


def _check(argv) -> int:
    from .check import check_setup, format_checks

    argparse.ArgumentParser(prog="python -m helpers check", description="Check the workshop set-up.").parse_args(argv)
    checks = check_setup()
    print(format_checks(checks))
    return 1 if any(not c.ok and not c.warn_only for c in checks) else 0


def _prepare(argv) -> int:
    from ._common import DataError
    from .prepare import prepare_subset

    p = argparse.ArgumentParser(
        prog="python -m helpers prepare",
        description="Copy a patient-stratified workshop subset of the IDC data into data/idc_subset.",
    )
    p.add_argument("--source", help="IDC folder (default: HISTO_IDC_DIR, else the kagglehub cache)")
    p.add_argument("--download", action="store_true", help="download the Kaggle data set if not found (~3 GB)")
    p.add_argument("--out", help="output folder (default: data/idc_subset in the repository)")
    p.add_argument("--max-patches", type=int, default=20_000, help="patches in the subset (default 20000)")
    p.add_argument("--max-per-patient", type=int, default=None, help="cap per patient (default: none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="replace an existing subset")
    p.add_argument("--warm-cache", action="store_true",
                   help="also decode the notebooks' default selection into the cache")
    args = p.parse_args(argv)
    try:
        m = prepare_subset(args.source, args.out, max_patches=args.max_patches,
                           max_per_patient=args.max_per_patient, seed=args.seed, download=args.download,
                           force=args.force)
    except DataError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 2
    print(f"✓ {m['n_patches']:,} patches from {m['n_patients']} patients ({m['n_idc']:,} IDC) copied from "
          f"{m['source']} to {m['out']} in {m['seconds']} s.")
    if args.warm_cache:
        _warm_cache(m["out"])
    return 0


def _warm_cache(path=None) -> None:
    from .data import load_idc

    data = load_idc(path, max_patches=NOTEBOOK_MAX_PATCHES, seed=0)
    print(f"✓ decoded {len(data):,} patches into the cache ({data.images.nbytes / 2**20:.0f} MiB).")


#: The selection notebooks 01–06 load (``helpers.load_idc(max_patches=6000, seed=0)``).
NOTEBOOK_MAX_PATCHES = 6000


def _demo(argv) -> int:
    from .demo import demo_idc_dir

    p = argparse.ArgumentParser(prog="python -m helpers demo",
                                description="Generate the synthetic demo data (not real patients).")
    p.add_argument("--warm-cache", action="store_true", help="also decode it into the cache")
    args = p.parse_args(argv)
    path = demo_idc_dir()
    print(f"✓ synthetic demo IDC data (NOT real patients) in {path}")
    try:
        from .kather import demo_kather_dir
    except ImportError:
        pass
    else:
        print(f"✓ synthetic demo Kather tiles (NOT real patients) in {demo_kather_dir()}")
    if args.warm_cache:
        _warm_cache(path)
    return 0


LOCAL = {"check": _check, "prepare": _prepare, "demo": _demo}
DELEGATED = {"features": "helpers.features", "baseline": "helpers.models", "kather": "helpers.kather"}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command in LOCAL:
        return LOCAL[command](rest)
    if command in DELEGATED:
        module = importlib.import_module(DELEGATED[command])
        return int(module.main(rest) or 0)
    print(f"Unknown command {command!r}.\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
