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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers", description="Instructor commands of the histopathology workshop.",
        epilog="Run `python -m helpers <command> --help` for a command's options.")
    p.add_argument("--version", action="version", version=f"helpers {__version__}")
    sub = p.add_subparsers(dest="command", metavar="<command>")
    c = sub.add_parser("check", help="check packages and data (one line each; exit code 1 on a ✗)",
                       description="Check the set-up: packages from the installed metadata, then which data the "
                                   "notebooks will use. No network.")
    c.add_argument("--verify", action="store_true", help="also check every file of prepared data or the bundled "
                                                         "sample against its manifest.json checksums")
    r = sub.add_parser("prepare", help="build the handout data/idc_subset and data/kather2016 (before the day)",
                       description="Copy complete slides plus a patient-stratified subset of the other patients "
                                   "into data/idc_subset, and the Kather 2016 tiles into data/kather2016, with "
                                   "checksums in manifest.json. Only --download touches the network.")
    r.add_argument("--source", metavar="DIR", help="IDC folder in the Kaggle layout (default: HISTO_IDC_DIR, "
                                                   "else the kagglehub cache)")
    r.add_argument("--download", action="store_true", help="download what is not found: IDC from Kaggle "
                                                           "(~3 GB), Kather from Zenodo (~250 MB)")
    r.add_argument("--out", metavar="DIR", help="IDC output folder (default: data/idc_subset)")
    r.add_argument("--max-patches", type=int, default=20_000, metavar="N",
                   help="IDC patches in the handout, complete slides included (default: 20000)")
    r.add_argument("--complete-slides", metavar="IDS", help="comma-separated patients kept whole (default: the "
                   "complete slides 8864,8950,9124,8863,8917,9023 that are present and fit in half of N; "
                   "'' for none)")
    r.add_argument("--seed", type=int, default=0, help="seed of the patient-stratified subset (default: 0)")
    r.add_argument("--on-mismatch", choices=["raise", "skip"], default="raise",
                   help="a patch whose class folder and name disagree: stop (default) or leave it out")
    r.add_argument("--kather-source", metavar="DIR", help="folder with the Kather class folders (default: "
                                                          "HISTO_KATHER_DIR, else the kagglehub cache)")
    r.add_argument("--kather-out", metavar="DIR", help="Kather output folder (default: data/kather2016)")
    r.add_argument("--only", choices=["idc", "kather"], help="prepare only this data set")
    r.add_argument("--force", action="store_true", help="replace an existing handout")
    r.add_argument("--timeout", type=float, default=30, metavar="S",
                   help="give up a download after S seconds without an answer (default: 30)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    for name, (_, text) in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)
    return p


def _prepare(args) -> int:
    from .prepare import prepare_idc, prepare_kather

    say = lambda message: print(message, flush=True)  # noqa: E731
    common = dict(download=args.download, force=args.force, timeout=args.timeout,
                  progress=not args.no_progress, log=say)
    code = 0
    if args.only != "kather":
        slides = None if args.complete_slides is None else [s for s in args.complete_slides.split(",") if s]
        t0 = time.perf_counter()
        try:
            m = prepare_idc(args.source, args.out, max_patches=args.max_patches, complete_slides=slides,
                            random_state=args.seed, on_mismatch=args.on_mismatch, **common)
        except DataError as exc:
            print(f"✗ IDC: {exc}", file=sys.stderr)
            return 2
        whole = ", ".join(f"{p} ({sum(k.startswith(p + '/') for k in m['sha256']):,} patches)"
                          for p in m["complete_slides"]) or "none"
        counts = m["n_per_class"]
        say(f"✓ IDC: {m['n_patches']:,} patches from {m['n_patients']} patients ({counts.get('0', 0):,} non-IDC, "
            f"{counts.get('1', 0):,} IDC), complete slides {whole}, {m['n_corrupt_skipped']} corrupt file(s) "
            f"skipped → {m['out']} ({time.perf_counter() - t0:.1f} s)")
    if args.only is None and not (args.download or args.kather_source or os.environ.get("HISTO_KATHER_DIR")
                                  or _kagglehub_cached("kather")):
        say("- Kather: skipped (nothing to copy from: give --kather-source DIR, set HISTO_KATHER_DIR, "
            "or add --download)")
    elif args.only != "idc":
        try:
            m = prepare_kather(args.kather_source, args.kather_out, **common)
            say(f"✓ Kather: {m['n_patches']:,} tiles ({m['n_per_class']}) → {m['out']}")
        except DataError as exc:
            print(f"✗ Kather: {exc}", file=sys.stderr)
            code = 2
    return code


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        module = importlib.import_module(DELEGATED[argv[0]][0])
        return int(module.main(argv[1:]) or 0)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "check":
        from .check import check_setup

        ok, report = check_setup(verify=args.verify)
        print(report)
        return 0 if ok else 1
    if args.command == "prepare":
        return _prepare(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
