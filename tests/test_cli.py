"""python -m helpers: check and prepare."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import __main__ as cli
from helpers._common import DataError
from helpers.data import find_idc, index_idc
from helpers.prepare import prepare_subset


def test_check_prints_a_line_per_requirement(capsys):
    code = cli.main(["check"])
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert code == 0, out
    assert any(l.startswith("✓ Python") for l in lines)
    for name in ("numpy", "scikit-image", "scikit-learn", "nbval", "kagglehub", "Jupyter kernel", "IDC data"):
        assert any(name in l and l[0] in "✓!" for l in lines), name


def test_check_fails_on_a_missing_package(monkeypatch, capsys):
    from helpers import check

    monkeypatch.setattr(check, "REQUIREMENTS", check.REQUIREMENTS + [("no_such_pkg_xyz", "no-such-pkg", "1.0")])
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "✗ no-such-pkg: cannot import" in out and "requirement(s) missing" in out


def test_check_reports_real_data(monkeypatch, capsys, real_idc):
    monkeypatch.setenv("HISTO_IDC_DIR", str(real_idc))
    cli.main(["check"])
    assert f"✓ IDC data: env HISTO_IDC_DIR: {real_idc}" in capsys.readouterr().out


def test_prepare_builds_a_subset_that_is_then_found(demo_root, tmp_path, monkeypatch):
    monkeypatch.setenv("HISTO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HISTO_IDC_DIR", raising=False)
    code = cli.main(["prepare", "--source", str(demo_root), "--max-patches", "120"])
    assert code == 0
    out = tmp_path / "data" / "idc_subset"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n_patches"] == 120 and manifest["n_patients"] == 4
    table = index_idc(out)
    assert len(table) == 120
    src = find_idc(allow_download=False)
    assert src.kind == "prepared subset" and src.root == out
    # an existing subset is not overwritten silently
    assert cli.main(["prepare", "--source", str(demo_root)]) == 2
    assert cli.main(["prepare", "--source", str(demo_root), "--max-patches", "60", "--force"]) == 0
    assert len(index_idc(out)) == 60


def test_prepare_refuses_to_touch_a_foreign_folder(demo_root, tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("precious")
    with pytest.raises(DataError, match="not a prepared subset"):
        prepare_subset(demo_root, foreign, force=True, progress=False)
    assert (foreign / "notes.txt").read_text() == "precious"


def test_unknown_command(capsys):
    assert cli.main(["frobnicate"]) == 2
    assert "Unknown command" in capsys.readouterr().err


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "helpers", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "prepare" in out.stdout
