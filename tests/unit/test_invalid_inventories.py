"""One bad file per validation rule, each with the exact lines `camfleet validate` must print.

Each file in tests/fixtures/invalid/ is dropped into a copy of the valid
tests/fixtures/mini-town at the path its ``# target:`` line names; its
``# expect:`` lines are the problems, exactly, with paths relative to the town.
To see what a fixture gives: ``python tests/unit/test_invalid_inventories.py NAME``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from camfleet.inventory import InventoryError, load

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MINI = FIXTURES / "mini-town"
INVALID = sorted((FIXTURES / "invalid").glob("*.yml"))


def headers(text: str, key: str) -> list[str]:
    prefix = f"# {key}: "
    return [line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix)]


def problems_of(fixture: Path, workdir: Path) -> list[str]:
    """Copy the mini town into workdir, drop the fixture in, and list what the loader says."""
    town = workdir / "town"
    shutil.copytree(MINI, town)
    text = fixture.read_text(encoding="utf-8")
    (target,) = headers(text, "target")
    (town / target).parent.mkdir(parents=True, exist_ok=True)
    (town / target).write_text(text, encoding="utf-8")
    cwd = Path.cwd()
    os.chdir(town)
    try:
        result = load(town)
        return [str(p) for p in result.warnings]
    except InventoryError as exc:
        return [str(p) for p in exc.problems]
    finally:
        os.chdir(cwd)


def test_mini_town_is_valid() -> None:
    result = load(MINI)
    assert result.warnings == []
    assert len(result.fleet.cameras) == 2


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture(fixture: Path, tmp_path: Path) -> None:
    expected = headers(fixture.read_text(encoding="utf-8"), "expect")
    assert expected, f"{fixture.name} has no '# expect:' line"
    assert problems_of(fixture, tmp_path) == expected


if __name__ == "__main__":  # print what a fixture gives, to write its expect lines
    import tempfile

    for name in sys.argv[1:] or [p.stem for p in INVALID]:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"== {name}")
            for line in problems_of(FIXTURES / "invalid" / f"{name}.yml", Path(tmp)):
                print(f"# expect: {line}")
