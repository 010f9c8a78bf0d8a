"""camfleet modules run inside Ansible's worker (plugin_utils/inprocess.py) behave as launched modules do.

Argument errors are compared with the same module launched as its own process (``python
<module>.py args.json``, the way Ansible runs it); secrets given as ``no_log`` options never come
back, not even in the traceback of a module bug.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

COLLECTIONS = ROOT / "collections"
MODULES = COLLECTIONS / "ansible_collections" / "camfleet" / "fleet" / "plugins" / "modules"
SECRET = "Wr0ng-Secret-4711"


@pytest.fixture(scope="module")
def inprocess() -> types.ModuleType:
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([str(COLLECTIONS)])
    import ansible_collections.camfleet.fleet.plugins.plugin_utils.inprocess as module

    return module


def launched(name: str, args: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The module run as Ansible runs it on a host: its own Python, arguments in a JSON file."""
    file = tmp_path / "args.json"
    internal = {"_ansible_module_name": f"camfleet.fleet.{name}"}  # what Ansible adds to every launch
    file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": internal | args}), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(COLLECTIONS)}
    out = subprocess.run(
        [sys.executable, str(MODULES / f"{name}.py"), str(file)], capture_output=True, text=True, env=env, timeout=60
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


BAD_ARGUMENTS = {
    "missing": ("camera_config", {"device": "cam-01-t01"}),
    "unsupported": (
        "camera_config",
        {"town": "/x", "device": "c", "username": "u", "password": SECRET, "bogus": 1},
    ),
    "wrong type": (
        "camera_config",
        {"town": "/x", "device": "c", "username": "u", "password": SECRET, "timeout": "soon"},
    ),
    "required together": (
        "device_firmware",
        {"town": "/x", "device": "c", "username": "u", "password": SECRET, "recorder_username": "r"},
    ),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=list(BAD_ARGUMENTS))
def test_argument_errors_read_as_the_launched_modules_do(
    inprocess: types.ModuleType, case: str, tmp_path: Path
) -> None:
    name, args = BAD_ARGUMENTS[case]
    here = inprocess.run_in_process(name, args, check_mode=False, diff=False)
    there = launched(name, args, tmp_path)
    assert here["failed"] is there["failed"] is True
    assert here["msg"] == there["msg"]
    assert SECRET not in json.dumps(here)


def test_an_unknown_town_is_the_modules_own_one_line_failure(inprocess: types.ModuleType, tmp_path: Path) -> None:
    args = {"town": str(tmp_path / "nowhere"), "device": "c", "username": "u", "password": SECRET}
    here = inprocess.run_in_process("camera_config", args, check_mode=True, diff=False)
    there = launched("camera_config", args, tmp_path)
    assert here["msg"] == there["msg"] and "no such inventory folder" in here["msg"]
    assert here["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert here["invocation"] == there["invocation"]


@pytest.fixture
def fake_module(inprocess: types.ModuleType) -> Iterator[types.ModuleType]:
    """A module whose run_module the test sets; registered where run_in_process looks it up."""
    name = "ansible_collections.camfleet.fleet.plugins.modules._fake"
    fake = types.ModuleType(name)
    fake.SPEC = {  # type: ignore[attr-defined]
        "argument_spec": {"password": {"type": "str", "no_log": True}, "n": {"type": "int", "default": 1}},
        "supports_check_mode": False,
    }
    sys.modules[name] = fake
    yield fake
    del sys.modules[name]


def test_a_module_bug_fails_the_task_without_the_secret(
    inprocess: types.ModuleType, fake_module: types.ModuleType
) -> None:
    def run_module(module: Any) -> None:
        raise RuntimeError(f"device said no to {module.params['password']}")

    fake_module.run_module = run_module  # type: ignore[attr-defined]
    result = inprocess.run_in_process("_fake", {"password": SECRET}, check_mode=False, diff=False)
    assert result["failed"] is True
    assert result["msg"].startswith("camfleet.fleet._fake failed unexpectedly (a bug; please report it): RuntimeError")
    assert "run_module" in result["exception"]  # the traceback is there for -vvv
    assert SECRET not in json.dumps(result)


def test_results_cross_the_same_json_trip_and_check_mode_is_honoured(
    inprocess: types.ModuleType, fake_module: types.ModuleType
) -> None:
    def run_module(module: Any) -> None:
        module.warn("careful")
        module.exit_json(changed=True, pair=(1, 2), n=module.params["n"], diff=module._diff)

    fake_module.run_module = run_module  # type: ignore[attr-defined]
    result = inprocess.run_in_process("_fake", {"n": "3"}, check_mode=False, diff=True)
    assert result["pair"] == [1, 2] and result["n"] == 3 and result["diff"] is True
    assert result["warnings"] == ["careful"] and result["changed"] is True
    skipped = inprocess.run_in_process("_fake", {}, check_mode=True, diff=False)
    assert skipped["skipped"] is True and "does not support check mode" in skipped["msg"]


def test_a_module_that_forgets_to_exit_fails(inprocess: types.ModuleType, fake_module: types.ModuleType) -> None:
    fake_module.run_module = lambda module: None  # type: ignore[attr-defined]
    result = inprocess.run_in_process("_fake", {}, check_mode=False, diff=False)
    assert result["failed"] is True and "returned without a result" in result["msg"]


@pytest.mark.parametrize(
    ("transport", "async_val", "become", "environment", "env", "allowed"),
    [
        ("local", 0, False, [{}], {}, True),  # what Ansible passes for a plain task: an empty entry per level
        ("local", 0, False, None, {}, True),
        ("local", 0, False, [{}, {"HTTPS_PROXY": "x"}], {}, False),  # the task's environment needs a process
        ("ssh", 0, False, [{}], {}, False),
        ("local", 30, False, [{}], {}, False),
        ("local", 0, True, [{}], {}, False),
        ("local", 0, False, [{}], {"CAMFLEET_INPROCESS": "0"}, False),
    ],
)
def test_when_a_module_runs_in_the_worker(
    inprocess: types.ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    transport: str,
    async_val: int,
    become: bool,
    environment: list[dict[str, str]] | None,
    env: dict[str, str],
    allowed: bool,
) -> None:
    monkeypatch.delenv("CAMFLEET_INPROCESS", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    action = types.SimpleNamespace(
        _connection=types.SimpleNamespace(transport=transport),
        _task=types.SimpleNamespace(async_val=async_val, become=become, environment=environment),
    )
    assert inprocess.in_process_allowed(action) is allowed
