"""Make the real sample bundled in data/sample/ (run once by a maintainer; its output is committed).

    python tools/make_sample.py --idc ../shared/data/idc --kather ../shared/data/kather2016

IDC: the complete slides of patients 8864 (published test list), 8950 (in no list) and 9124 (published train
list), whole, plus a patient-stratified sparse sample of every other patient (the same rule as
`python -m helpers prepare`, seed 0), 3,300 patches in all. Kather: the 24 tiles as they are. Files are copied
byte for byte with their original names; data/sample/*/manifest.json records counts and SHA-256 checksums.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.prepare import prepare_idc, prepare_kather

ROOT = Path(__file__).resolve().parent.parent
COMPLETE = ["8864", "8950", "9124"]
N_PATCHES = 3300
SEED = 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--idc", required=True, help="IDC folder in the Kaggle layout")
    p.add_argument("--kather", required=True, help="folder with the Kather 2016 class folders")
    p.add_argument("--out", default=str(ROOT / "data" / "sample"), help="default: data/sample")
    args = p.parse_args(argv)
    out = Path(args.out)
    idc = prepare_idc(args.idc, out / "idc", max_patches=N_PATCHES, complete_slides=COMPLETE, random_state=SEED,
                      force=True, progress=False)
    kather = prepare_kather(args.kather, out / "kather2016", force=True, progress=False)
    for m in (idc, kather):
        m.pop("sha256")
        print(m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
