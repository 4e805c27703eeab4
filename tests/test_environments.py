"""pyproject.toml, environment.yml and binder/ agree; Binder's scripts are well-formed (Binder cannot run here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# pip name -> conda-forge name where they differ
PIP_TO_CONDA = {}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return _norm(m.group(1)), m.group(2).replace(" ", "")


def pyproject_deps() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return dict(_split(r) for r in data["project"]["dependencies"])


def conda_deps(path: Path) -> dict[str, str]:
    deps, in_deps = {}, False
    for line in path.read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        if in_deps:
            m = re.match(r"^  - ([^\s#]+.*)$", line)
            if m and not m.group(1).startswith("pip"):
                name, spec = _split(m.group(1))
                deps[name] = spec
    return deps


@pytest.mark.parametrize("env_file", ["environment.yml", "binder/environment.yml"])
def test_conda_and_pip_dependencies_agree(env_file):
    pip = {PIP_TO_CONDA.get(k, k): v for k, v in pyproject_deps().items()}
    conda = conda_deps(ROOT / env_file)
    python = conda.pop("python")
    assert python in (">=3.10", "=3.11")
    assert set(pip) == set(conda), f"only in pyproject: {set(pip) - set(conda)}, only in {env_file}: {set(conda) - set(pip)}"
    if env_file == "environment.yml":
        assert pip == conda, "minimum versions differ"


def test_binder_scripts():
    post, start = ROOT / "binder" / "postBuild", ROOT / "binder" / "start"
    for script in (post, start):
        assert os.access(script, os.X_OK), f"{script.name} must be executable"
        assert script.read_text().startswith("#!/bin/bash")
        subprocess.run(["bash", "-n", str(script)], check=True)


def test_binder_start_runs_its_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}  # start keeps a value already set
    out = subprocess.run([str(ROOT / "binder" / "start"), "bash", "-c", "echo $OMP_NUM_THREADS"],
                         capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "2"
