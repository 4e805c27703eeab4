"""python -m helpers: usage text, check (requirements from the installed metadata, data lines, --verify), prepare."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import helpers
from helpers import __main__ as cli
from helpers import check
from helpers.data import DataError, find_data, index_idc
from helpers.prepare import prepare_idc, verify

ROOT = Path(__file__).resolve().parent.parent


def _no_env(monkeypatch):
    for var in ("HISTO_IDC_DIR", "HISTO_KATHER_DIR"):
        monkeypatch.delenv(var, raising=False)


def test_help_and_version():
    out = subprocess.run([sys.executable, "-m", "helpers", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("usage: python -m helpers")
    for command in ("check", "prepare", "features", "baseline"):
        assert f"    {command} " in out.stdout
    version = subprocess.run([sys.executable, "-m", "helpers", "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"helpers {helpers.__version__}"


def test_every_option_has_help():
    parser = cli._parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("check", "prepare"):
        for action in sub.choices[name]._actions:
            assert action.help and action.help.strip(), f"{name} {action.option_strings} has no help"


def test_unknown_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["frobnicate"])
    assert exit_.value.code == 2 and "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_check_reads_requirements_from_metadata_and_names_the_data(monkeypatch, capsys):
    _no_env(monkeypatch)
    assert cli.main(["check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    required = metadata.requires("histo-workshop-helpers")
    assert len(required) >= 10
    for req in required:
        name = req.split(">")[0].split("=")[0].strip()
        assert any(line.startswith(f"✓ {name} ") for line in lines), name
    idc = next(line for line in lines if "IDC" in line)
    assert idc.startswith("✓") and "bundled sample: 3,300 patches, 254 patients" in idc
    assert "python -m helpers prepare" in idc
    assert any(line.startswith("✓ Kather") and "bundled sample: 24 tiles" in line for line in lines)
    assert lines[-1] == "All set."


def test_check_fails_on_a_missing_or_old_package(monkeypatch, capsys):
    real = metadata.requires("histo-workshop-helpers")
    monkeypatch.setattr(check.metadata, "requires", lambda dist: real + ["no-such-pkg>=1.0", "numpy>=999"])
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "✗ no-such-pkg: not installed. Run: pip install -e ." in out
    assert "older than 999" in out and out.rstrip().endswith("2 problem(s): fix the ✗ lines above.")


def test_check_says_where_the_data_is_missing(tmp_path, monkeypatch, capsys):
    _no_env(monkeypatch)
    monkeypatch.setenv("HISTO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HISTO_KATHER_DIR", str(tmp_path / "typo"))
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "✗ IDC breast histopathology patches: No IDC breast histopathology patches found." in out
    assert "HISTO_KATHER_DIR=" in out and "typo: no such folder" in out


def test_check_verify(tmp_path, monkeypatch, capsys):
    _no_env(monkeypatch)
    shutil.copytree(ROOT / "data" / "sample", tmp_path / "sample")
    monkeypatch.setenv("HISTO_DATA_DIR", str(tmp_path))
    assert cli.main(["check", "--verify"]) == 0
    assert "(every file matches its manifest checksum)" in capsys.readouterr().out
    victim = next((tmp_path / "sample" / "idc" / "8864" / "1").glob("*.png"))
    victim.write_bytes(victim.read_bytes()[:-10])
    (tmp_path / "sample" / "kather2016" / "01_TUMOR" / "1AB_CRC-Prim-HE-01_015.tif_Row_1_Col_151.tif").unlink()
    assert cli.main(["check", "--verify"]) == 1
    out = capsys.readouterr().out
    assert f"changed: 8864/1/{victim.name}" in out and "missing: 01_TUMOR/1AB_CRC" in out


def test_prepare_keeps_complete_slides_and_is_then_found(idc_root, tmp_path, monkeypatch, capsys):
    _no_env(monkeypatch)
    monkeypatch.setenv("HISTO_DATA_DIR", str(tmp_path / "data"))
    n_8864 = len(list((idc_root / "8864").rglob("*.png")))
    code = cli.main(["prepare", "--source", str(idc_root), "--max-patches", "60", "--complete-slides", "8864",
                     "--no-progress"])
    out = tmp_path / "data" / "idc_subset"
    assert code == 0 and f"complete slides 8864 ({n_8864} patches)" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    table = index_idc(out)
    assert len(table) == manifest["n_patches"] == 60 and (table["patient"] == "8864").sum() == n_8864
    assert table["patient"].nunique() == manifest["n_patients"] == 8  # every other patient keeps patches
    assert verify(out) == [] and len(manifest["sha256"]) == 60
    assert find_data("idc").kind == "prepared"
    # an existing handout is not replaced silently; --force replaces it
    assert cli.main(["prepare", "--source", str(idc_root), "--only", "idc", "--no-progress"]) == 2
    assert "already exists. Add --force" in capsys.readouterr().err
    assert cli.main(["prepare", "--source", str(idc_root), "--max-patches", "70", "--force", "--no-progress"]) == 0
    assert len(index_idc(out)) == 70


def test_prepare_default_complete_slides_fit_half_the_budget(real_idc, tmp_path):
    m = prepare_idc(real_idc, tmp_path / "sub", max_patches=3000, progress=False)
    sizes = index_idc(tmp_path / "sub").groupby("patient").size()
    assert m["complete_slides"][0] == "8864" and sizes["8864"] == 1133 and m["n_patches"] == 3000
    assert sum(sizes[p] for p in m["complete_slides"]) <= 1500 and len(sizes) == index_idc(real_idc)[
        "patient"].nunique()


def test_prepare_reports_corrupt_files_instead_of_copying_them(idc_copy, tmp_path):
    victim = next((idc_copy / "8950" / "1").glob("*.png"))
    victim.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    said = []
    m = prepare_idc(idc_copy, tmp_path / "out", max_patches=10_000, complete_slides=[], progress=False,
                    log=said.append)
    assert m["n_corrupt_skipped"] == 1 and str(victim) in m["corrupt"][0]
    assert not (tmp_path / "out" / "8950" / "1" / victim.name).exists() and "1 corrupt file(s) not copied" in said[0]


def test_prepare_label_mismatch_policy(idc_copy, tmp_path):
    wrong = next((idc_copy / "8950" / "0").glob("*.png"))
    shutil.move(wrong, idc_copy / "8950" / "1" / wrong.name)
    with pytest.raises(DataError, match="--on-mismatch skip"):
        prepare_idc(idc_copy, tmp_path / "a", progress=False)
    m = prepare_idc(idc_copy, tmp_path / "b", on_mismatch="skip", progress=False)
    assert m["n_patches"] == len(list(idc_copy.rglob("*.png"))) - 1


def test_prepare_refuses_out_inside_source_and_foreign_folders(idc_copy, tmp_path):
    with pytest.raises(DataError, match="overlap"):
        prepare_idc(idc_copy, idc_copy / "handout", progress=False)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("precious")
    with pytest.raises(DataError, match="not a prepared folder"):
        prepare_idc(idc_copy, foreign, force=True, progress=False)
    assert (foreign / "notes.txt").read_text() == "precious"


def test_prepare_kather(kather_root, tmp_path, monkeypatch):
    _no_env(monkeypatch)
    monkeypatch.setenv("HISTO_DATA_DIR", str(tmp_path))
    assert cli.main(["prepare", "--only", "kather", "--kather-source", str(kather_root), "--no-progress"]) == 0
    assert find_data("kather").kind == "prepared" and verify(tmp_path / "kather2016") == []
    assert len(helpers.load_kather(progress=False)) == len(list(Path(kather_root).rglob("*.tif")))


def test_prepare_without_any_source_says_the_three_ways(tmp_path, monkeypatch, capsys):
    _no_env(monkeypatch)
    assert cli.main(["prepare", "--out", str(tmp_path / "x"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "Nothing to prepare the IDC" in err and "(1) set HISTO_IDC_DIR" in err and "--download" in err
