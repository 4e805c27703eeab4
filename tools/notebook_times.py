#!/usr/bin/env python
"""Sum the run time of each notebook from a pytest JUnit XML report (nbval reports one test per cell).

    pytest --junitxml=report.xml && python tools/notebook_times.py report.xml
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict


def notebook_times(path: str) -> dict[str, float]:
    times: dict[str, float] = defaultdict(float)
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("classname", "") or case.get("file", "")
        if ".ipynb" in name:
            key = name.split("::")[0]
            times[key] += float(case.get("time", 0))
    return dict(times)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__)
        return 2
    times = notebook_times(argv[0])
    for name, t in sorted(times.items()):
        print(f"{t:7.1f} s  {name}")
    print(f"{sum(times.values()):7.1f} s  all notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
