"""notebooks/ is generated from solutions/; the generator's rules; a hand-edited exercise is caught."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises as mx  # noqa: E402


def _nb(cells):
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _code(src, tags=None, outputs=None):
    return {"cell_type": "code", "source": src, "metadata": {"tags": tags or []},
            "outputs": outputs or [], "execution_count": 3 if outputs else None}


def test_solution_cell_keeps_statement_only():
    nb = _nb([_code("# Exercise 1: count patients\n# Hint: nunique\nn = table.patient.nunique()\nprint(n)",
                    tags=["solution"])])
    out = mx.make_exercise(nb)
    assert "".join(out["cells"][0]["source"]) == "# Exercise 1: count patients\n# Hint: nunique\n# Your code here"
    assert out["cells"][0]["metadata"]["tags"] == ["exercise"]


def test_solution_parts_are_replaced_with_indentation():
    src = "def f(x):\n    # BEGIN SOLUTION\n    y = x + 1\n    # END SOLUTION\n    return y\n"
    out = mx.make_exercise(_nb([_code(src)]))
    assert "".join(out["cells"][0]["source"]) == "def f(x):\n    # Your code here\n    return y"


def test_markdown_answers_are_dropped_and_outputs_stripped():
    nb = _nb([
        {"cell_type": "markdown", "source": "**Answer:** stroma", "metadata": {"tags": ["solution"]}},
        _code("print(1)", outputs=[{"output_type": "stream", "name": "stdout", "text": "1"}]),
    ])
    out = mx.make_exercise(nb)
    assert len(out["cells"]) == 1 and out["cells"][0]["outputs"] == []
    assert out["cells"][0]["execution_count"] is None
    assert out["metadata"]["kernelspec"]["name"] == "python3"


def test_unbalanced_markers_fail():
    with pytest.raises(ValueError, match="without"):
        mx.make_exercise(_nb([_code("# BEGIN SOLUTION\nx = 1\n")]))


def test_notebooks_match_solutions():
    assert mx.main(["--check"]) == 0, "notebooks/ drifted: run python tools/make_exercises.py"


def test_hand_edited_exercise_is_detected(tmp_path):
    for sub in ("solutions", "notebooks"):
        shutil.copytree(ROOT / sub, tmp_path / sub)
    target = sorted((tmp_path / "notebooks").glob("*.ipynb"))[0]
    nb = json.loads(target.read_text())
    nb["cells"][0]["source"] = ["# edited by hand\n"] + list(nb["cells"][0]["source"])
    target.write_text(json.dumps(nb, indent=1) + "\n")
    assert mx.main(["--check", "--root", str(tmp_path)]) == 1
    assert mx.main(["--root", str(tmp_path)]) == 0
    assert mx.main(["--check", "--root", str(tmp_path)]) == 0


def test_every_notebook_pair_exists_and_is_clean():
    sols = sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))
    exs = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sols and sols == exs
    for folder in ("solutions", "notebooks"):
        for path in (ROOT / folder).glob("*.ipynb"):
            nb = json.loads(path.read_text())
            assert nb["metadata"]["kernelspec"]["name"] == "python3", path
            assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), \
                f"{path} is committed with outputs"
            text = "".join("".join(c["source"]) for c in nb["cells"])
            assert "sys.path" not in text and "import *" not in text, path


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*.ipynb")) + sorted((ROOT / "notebooks").glob("*.ipynb")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_is_valid_and_committed_without_outputs(path):
    """Every notebook passes nbformat's schema (e.g. cell ids need nbformat_minor >= 5) and carries no outputs."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name} was committed with outputs"
