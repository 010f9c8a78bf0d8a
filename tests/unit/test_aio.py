"""camfleet.aio: the exporter and the simulator run on uvloop; CAMFLEET_EVENT_LOOP chooses, a bad value is one line."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest

from camfleet import aio
from tests.conftest import BIN, ROOT


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_uvloop_by_default_and_asyncio_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(aio.ENV, raising=False)
    assert aio.name() == "uvloop"
    assert aio.run(_loop_module()).startswith("uvloop")
    monkeypatch.setenv(aio.ENV, "asyncio")
    assert aio.name() == "asyncio"
    assert aio.run(_loop_module()).startswith("asyncio")


def test_a_bad_choice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(aio.ENV, "trio")
    with pytest.raises(ValueError, match="chỉ nhận 'uvloop' hoặc 'asyncio' / only 'uvloop' or 'asyncio'"):
        aio.loop_factory()


@pytest.mark.parametrize(
    "argv",
    [
        ["exporter", "--inventory", "inventory/ngoc-lac", "--listen", "127.0.0.1:0"],
        ["sim", "up", "inventory/ngoc-lac", "--state", "/nonexistent/camfleet-aio-test", "--net", "99"],
    ],
    ids=["exporter", "sim"],
)
def test_the_commands_say_so_in_one_line_before_starting(argv: list[str]) -> None:
    proc = subprocess.run(
        [str(BIN / "camfleet"), *argv],
        cwd=ROOT,
        env={**os.environ, aio.ENV: "trio"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "CAMFLEET_EVENT_LOOP='trio'" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
