"""Instructor command line: ``python -m helpers <command> [options]`` (``--help`` on any command)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

from . import __version__
from .data import DataError, _kagglehub_cached

DELEGATED = {  # command -> (module whose main(argv) runs it, one-line help)
    "features": ("helpers.features", "extract the default features of an IDC folder to a file"),
    "baseline": ("helpers.models", "train the reference method on one folder's patients, test on another's"),
}
PREPARE_OPTIONS = {  # flag -> argparse keywords
    "--source": dict(metavar="DIR", help="IDC folder in the Kaggle layout (default: HISTO_IDC_DIR, kagglehub cache)"),
    "--download": dict(action="store_true", help="download what is missing: IDC (Kaggle, ~3 GB), Kather (~250 MB)"),
    "--out": dict(metavar="DIR", help="IDC output folder (default: data/idc_subset)"),
    "--max-patches": dict(type=int, default=20_000, metavar="N", help="IDC patches with complete slides (%(default)s)"),
    "--complete-slides": dict(metavar="IDS", help="comma-separated patients kept whole ('' for none; default: those "
                                                  "of 8864,8950,9124,8863,8917,9023 that fit in half of N)"),
    "--seed": dict(type=int, default=0, help="seed of the patient-stratified subset (%(default)s)"),
    "--on-mismatch": dict(choices=["raise", "skip"], default="raise", help="class folder and name disagree: stop "
                                                                           "or leave the patch out (%(default)s)"),
    "--kather-source": dict(metavar="DIR", help="Kather class folders (default: HISTO_KATHER_DIR, kagglehub cache)"),
    "--kather-out": dict(metavar="DIR", help="Kather output folder (default: data/kather2016)"),
    "--only": dict(choices=["idc", "kather"], help="prepare only this data set"),
    "--force": dict(action="store_true", help="replace an existing handout"),
    "--timeout": dict(type=float, default=30, metavar="S", help="give up a download after S s silence (%(default)s)"),
    "--no-progress": dict(action="store_true", help="no progress bars"),
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m helpers", description="Instructor commands of the workshop.",
                                epilog="Run `python -m helpers <command> --help` for its options.")
    p.add_argument("--version", action="version", version=f"helpers {__version__}")
    sub = p.add_subparsers(dest="command", metavar="<command>")
    c = sub.add_parser("check", help="check packages and data (one line each; exit code 1 on a ✗)",
                       description="Check packages (installed metadata) and which data the notebooks use. No network.")
    c.add_argument("--verify", action="store_true", help="also check every data file against its manifest checksum")
    r = sub.add_parser("prepare", help="build the handout data/idc_subset and data/kather2016 (before the day)",
                       description="Copy complete slides plus a patient-stratified subset of the other patients, "
                       "and the Kather tiles, into data/ with checksums. Only --download uses the network.")
    for flag, kwargs in PREPARE_OPTIONS.items():
        r.add_argument(flag, **kwargs)
    for name, (_, text) in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)
    return p


def _prepare(args, say) -> int:
    from .prepare import prepare_idc, prepare_kather

    common = dict(download=args.download, force=args.force, timeout=args.timeout, progress=not args.no_progress,
                  log=say)
    if args.only != "kather":
        slides = None if args.complete_slides is None else [s for s in args.complete_slides.split(",") if s]
        t0 = time.perf_counter()
        m = prepare_idc(args.source, args.out, max_patches=args.max_patches, complete_slides=slides,
                        random_state=args.seed, on_mismatch=args.on_mismatch, **common)
        whole = ", ".join(f"{p} ({sum(k.startswith(p + '/') for k in m['sha256']):,} patches)"
                          for p in m["complete_slides"])
        n = m["n_per_class"]
        say(f"✓ IDC: {m['n_patches']:,} patches from {m['n_patients']} patients ({n.get('0', 0):,} non-IDC, "
            f"{n.get('1', 0):,} IDC), complete slides {whole or 'none'}, {m['n_corrupt_skipped']} corrupt file(s) "
            f"skipped → {m['out']} ({time.perf_counter() - t0:.1f} s)")
    if args.only is None and not (args.download or args.kather_source or os.environ.get("HISTO_KATHER_DIR")
                                  or _kagglehub_cached("kather")):
        say("- Kather: skipped (nothing to copy from: give --kather-source DIR, set HISTO_KATHER_DIR or --download)")
    elif args.only != "idc":
        m = prepare_kather(args.kather_source, args.kather_out, **common)
        say(f"✓ Kather: {m['n_patches']:,} tiles ({m['n_per_class']}) → {m['out']}")
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        return int(importlib.import_module(DELEGATED[argv[0]][0]).main(argv[1:]) or 0)
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            from .check import check_setup

            ok, report = check_setup(verify=args.verify)
            print(report)
            return 0 if ok else 1
        if args.command == "prepare":
            return _prepare(args, say=lambda message: print(message, flush=True))
    except DataError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 2
    _parser().print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
