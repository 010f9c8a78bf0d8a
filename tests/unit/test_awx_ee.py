"""awx/execution-environment.yml is a valid ansible-builder v3 definition: ``ansible-builder create`` (its own
schema, no container engine needed) writes the build context, with the lock's Python packages, the bindep
system packages and the project checkout on PYTHONPATH; a definition that breaks the schema is refused.

    .venv/bin/ansible-builder create -f awx/execution-environment.yml -c /tmp/camfleet-ee
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from tests.conftest import BIN, ROOT, require_program

BUILDER = str(BIN / "ansible-builder")
EE = ROOT / "awx" / "execution-environment.yml"


def create(definition: Path, context: Path) -> subprocess.CompletedProcess[str]:
    require_program(BUILDER, "ansible-builder (pip, the test extras)")
    return subprocess.run(
        [BUILDER, "create", "-f", str(definition), "-c", str(context)], capture_output=True, text=True, timeout=120
    )


def test_the_execution_environment_builds_its_context(tmp_path: Path) -> None:
    out = create(EE, tmp_path / "context")
    assert out.returncode == 0, out.stdout + out.stderr
    build = tmp_path / "context" / "_build"
    dockerfile = (tmp_path / "context" / "Dockerfile").read_text(encoding="utf-8")
    assert "ENV PYTHONPATH=/runner/project" in dockerfile
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in dockerfile
    pinned = (build / "requirements.txt").read_text(encoding="utf-8")
    assert pinned == (ROOT / "requirements.lock").read_text(encoding="utf-8")
    excluded = (build / "exclude-requirements.txt").read_text(encoding="utf-8").split()
    assert "ansible-core" in excluded and "pytest" in excluded
    assert "openssh-clients" in (build / "bindep.txt").read_text(encoding="utf-8")


def test_a_definition_outside_the_schema_is_refused(tmp_path: Path) -> None:
    shutil.copy(EE.parent / "bindep.txt", tmp_path / "bindep.txt")
    shutil.copy(EE.parent / "requirements.yml", tmp_path / "requirements.yml")
    definition = yaml.safe_load(EE.read_text(encoding="utf-8"))
    definition["dependencies"]["python"] = str(ROOT / "requirements.lock")
    definition["dependencies"]["pip"] = ["httpx"]  # not a key of v3's dependencies (it says python)
    (tmp_path / "ee.yml").write_text(yaml.safe_dump(definition), encoding="utf-8")
    out = create(tmp_path / "ee.yml", tmp_path / "context")
    assert out.returncode != 0
    assert "pip" in out.stdout + out.stderr
