"""Set-up check (``python -m helpers check``): one ✓/✗ line per requirement, read from the installed package's
metadata (``pyproject.toml`` is the only list), then one line per data set. No network, no image decoded."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from .data import SOURCES, DataError, find_data

__all__ = ["check_setup"]

DISTRIBUTION = "histo-workshop-helpers"


def _version(text: str) -> tuple:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def _requirement(req: str) -> tuple[bool, str]:
    """(ok, line) for one requirement string such as ``scikit-learn>=1.6``."""
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(?:>=\s*([\w.]+))?", req)
    name, floor = m[1], m[2]
    try:
        found = metadata.version(name)
    except metadata.PackageNotFoundError:
        return False, f"✗ {name}: not installed. Run: pip install -e .  (inside the activated venv)"
    if floor and _version(found) < _version(floor):
        return False, f"✗ {name} {found}: older than {floor}. Run: pip install -U '{name}>={floor}'"
    return True, f"✓ {name} {found}"


def _data_line(name: str, verify: bool) -> tuple[bool, str]:
    """(ok, line) saying which data the notebooks will use, and the next step."""
    title = SOURCES[name]["title"]
    try:
        loc = find_data(name)
    except DataError as exc:
        return False, f"✗ {title}: {exc}"
    line = f"✓ {title}: {loc.description}"
    if loc.kind in ("prepared", "sample") and verify:
        from .prepare import verify as verify_folder

        problems = verify_folder(loc.root)
        if problems:
            return False, f"✗ {title}: {len(problems)} file(s) differ from {loc.root}/manifest.json: " \
                          f"{'; '.join(problems[:3])}. Unzip the handout again."
        line += " (every file matches its manifest checksum)"
    elif loc.kind == "prepared":
        line += " — `python -m helpers check --verify` checks every file"
    elif loc.kind != "sample":
        line += " — the notebooks use it"
    return True, line


def check_setup(verify: bool = False) -> tuple[bool, str]:
    """Run the checks; return (all required checks passed, the report as text). Nothing is printed."""
    results = [(sys.version_info >= (3, 10), f"{'✓' if sys.version_info >= (3, 10) else '✗'} Python "
                f"{sys.version.split()[0]} ({sys.executable})")]
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        requirements = []
        results.append((False, f"✗ {DISTRIBUTION} is not installed: run `pip install -e .` in the repository"))
    results += [_requirement(r) for r in requirements if "extra ==" not in r]
    results.append((True, f"✓ helpers from {Path(__file__).resolve().parent}"))
    results += [_data_line(name, verify) for name in SOURCES]
    failed = sum(not ok for ok, _ in results)
    verdict = f"{failed} problem(s): fix the ✗ lines above." if failed else "All set."
    return not failed, "\n".join([line for _, line in results] + [verdict])
