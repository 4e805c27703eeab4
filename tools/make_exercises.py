#!/usr/bin/env python
"""Generate the student notebooks (``notebooks/``) from the solved ones (``solutions/``).

``solutions/`` is the source of truth. In a solution notebook:

* a code cell tagged ``solution`` keeps its leading comment lines (the exercise statement, hints) and the rest of
  its code becomes ``# Your code here``;
* in any code cell, the lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION`` become one ``# Your code here`` line
  with the same indentation;
* a markdown cell tagged ``solution`` (a written answer) is dropped.

Every generated notebook has no outputs, no execution counts and the standard ``python3`` kernel spec.

Usage::

    python tools/make_exercises.py            # (re)write notebooks/ from solutions/
    python tools/make_exercises.py --check    # exit 1 and list the notebooks that drifted
    python tools/make_exercises.py --clean-solutions   # also strip outputs from solutions/ in place
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "# Your code here"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _lines(text: str) -> list[str]:
    """Split into lines the way nbformat stores them (each keeps its newline but the last)."""
    return text.splitlines(keepends=True)


def strip_parts(text: str, where: str = "") -> str:
    """Replace every ``# BEGIN SOLUTION`` … ``# END SOLUTION`` block by the placeholder."""
    out, inside = [], False
    for line in text.splitlines():
        m = _BEGIN.match(line)
        if m and not inside:
            inside = True
            out.append(m.group(1) + PLACEHOLDER)
            continue
        if inside:
            if _END.match(line):
                inside = False
            continue
        if _END.match(line):
            raise ValueError(f"{where}: '# END SOLUTION' without '# BEGIN SOLUTION'")
        out.append(line)
    if inside:
        raise ValueError(f"{where}: '# BEGIN SOLUTION' without '# END SOLUTION'")
    return "\n".join(out)


def strip_cell(text: str) -> str:
    """Keep the leading comment lines of a solution cell; the code becomes the placeholder."""
    keep = []
    for line in text.splitlines():
        if line.strip().startswith("#") or not line.strip():
            keep.append(line)
            continue
        break
    while keep and not keep[-1].strip():
        keep.pop()
    return "\n".join(keep + [PLACEHOLDER])


def clean_notebook(nb: dict) -> dict:
    """Outputs and execution counts removed, kernel spec and language info made standard."""
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        cell.pop("id", None)
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        md = cell.get("metadata", {})
        for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
            md.pop(key, None)
        cell["metadata"] = md
    nb["metadata"] = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    }
    nb["nbformat"], nb["nbformat_minor"] = 4, 4
    return nb


def make_exercise(solution: dict, where: str = "") -> dict:
    """The student version of a solution notebook (a new dict)."""
    nb = clean_notebook(solution)
    cells = []
    for i, cell in enumerate(nb["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        text = _source(cell)
        if "solution" in tags:
            if cell["cell_type"] == "markdown":
                continue
            text = strip_cell(text)
            cell["metadata"]["tags"] = [t for t in tags if t != "solution"] + ["exercise"]
        elif cell["cell_type"] == "code":
            text = strip_parts(text, f"{where} cell {i}")
        cell["source"] = _lines(text)
        cells.append(cell)
    nb["cells"] = cells
    return nb


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if notebooks/ drifted")
    parser.add_argument("--clean-solutions", action="store_true", help="strip outputs from solutions/ in place")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sol_dir, ex_dir = args.root / "solutions", args.root / "notebooks"
    solutions = sorted(sol_dir.glob("*.ipynb"))
    if not solutions:
        print(f"No notebooks in {sol_dir}", file=sys.stderr)
        return 1
    drift = []
    expected_names = set()
    for path in solutions:
        solution = json.loads(path.read_text())
        if args.clean_solutions and not args.check:
            cleaned = dumps(clean_notebook(solution))
            if cleaned != path.read_text():
                path.write_text(cleaned)
        text = dumps(make_exercise(solution, where=path.name))
        target = ex_dir / path.name
        expected_names.add(path.name)
        current = target.read_text() if target.exists() else None
        if current != text:
            drift.append(target)
            if not args.check:
                ex_dir.mkdir(exist_ok=True)
                target.write_text(text)
    extra = [p for p in sorted(ex_dir.glob("*.ipynb")) if p.name not in expected_names]
    if args.check:
        for p in drift:
            print(f"drifted from solutions/: {p.relative_to(args.root)}  (run python tools/make_exercises.py)")
        for p in extra:
            print(f"no solution for: {p.relative_to(args.root)}")
        return 1 if drift or extra else 0
    for p in drift:
        print(f"wrote {p.relative_to(args.root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
