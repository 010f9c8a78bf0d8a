"""Every string a person reads says it in Vietnamese first, then " / " English (issue 12).

The installers, technicians and operators of a Vietnamese town read these; code, identifiers, metric
and label names stay English. The test scans each user-facing string table — the inventory's
messages, the driver error labels, ``camfleet status``'s values, the CLI's help, the playbooks' and
roles' ``msg``/``fail_msg``/``success_msg``, the modules' and jobs' messages — and names every string
that has no Vietnamese before its first " / ". To see what it finds::

    .venv/bin/pytest -q -p no:cacheprovider tests/unit/test_vietnamese_first.py
"""

from __future__ import annotations

import argparse
import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from camfleet.cli import build_parser
from camfleet.drivers import errors
from camfleet.drivers.base import ChannelState
from camfleet.drivers.errors import DriverError
from camfleet.drivers.routeros import hostkeys  # noqa: F401 - its HostKeyError is a DriverError subclass
from camfleet.inventory import load
from camfleet.inventory.glossary import vietnamese_first
from camfleet.jobs import status
from camfleet.probes.rtsp import Reason

ROOT = Path(__file__).resolve().parents[2]
CAMFLEET = ROOT / "camfleet"
MODULES = ROOT / "collections/ansible_collections/camfleet/fleet/plugins"

#: argparse's own help for -h/--help; the rest of the help is ours.
ARGPARSE_OWN = {"show this help message and exit"}


def _text(node: ast.expr) -> str | None:
    """The literal text of a string expression (an f-string's placeholders as {}), or None if not a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _text(node.left)
        return None if left is None else left + (_text(node.right) or "{}")
    return None


def _says_something(text: str) -> bool:
    """A string with words in it, not only placeholders, a path or punctuation ("{}: {}")."""
    return bool(re.search(r"[A-Za-z]{3,}", re.sub(r"\{[^}]*\}", "", text)))


def _english_only(found: Iterator[tuple[str, str]]) -> list[str]:
    return [f"{where}: {text!r}" for where, text in found if _says_something(text) and not vietnamese_first(text)]


def _call_arguments(path: Path, calls: dict[str, int | str]) -> Iterator[tuple[str, str]]:
    """The literal message given to each call named in ``calls`` (by position, or by keyword)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        for callee, where in calls.items():
            if callee != "*" and name != callee:
                continue
            if isinstance(where, int) and len(node.args) > where:
                arg: ast.expr | None = node.args[where]
            else:
                arg = next((k.value for k in node.keywords if k.arg == where), None)
            if arg is None:
                continue
            for branch in (arg.body, arg.orelse) if isinstance(arg, ast.IfExp) else (arg,):
                text = _text(branch)
                if text is not None:
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", text


def test_the_heuristic_tells_vietnamese_from_english() -> None:
    assert vietnamese_first("không kết nối được / connection failed")
    assert not vietnamese_first("connection failed / không kết nối được")
    assert not vietnamese_first("no channel")
    assert _says_something("cannot read {}") and not _says_something("{}: {}")


def test_inventory_messages_are_vietnamese_first() -> None:
    """Every message the installer reads from `camfleet validate`: messages.py's templates (each
    returned string, each pattern's help), and the checks', the loader's and the YAML reader's lines."""
    source = CAMFLEET / "inventory/messages.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    found: list[tuple[str, str]] = []
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        for node in ast.walk(fn):
            if isinstance(node, ast.Return) and node.value is not None:
                value = node.value
                for branch in (value.body, value.orelse) if isinstance(value, ast.IfExp) else (value,):
                    text = _text(branch)
                    if text is not None and fn.name not in ("dotted", "did_you_mean"):  # fragments, not messages
                        found.append((f"messages.py:{node.lineno} {fn.name}", text))
    from camfleet.inventory.messages import _PATTERN_HELP

    found += [(f"messages.py _PATTERN_HELP {pattern}", text) for pattern, text in _PATTERN_HELP.items()]
    assert len(found) > 25
    bad = _english_only(iter(found))
    for name, calls in {
        "checks.py": {"_problem": 2, "need": 1},
        "loader.py": {"Problem": 3, "add": 2},
        "yamlfiles.py": {"YamlSyntaxError": 2, "ConstructorError": 2},
    }.items():
        bad += _english_only(_call_arguments(CAMFLEET / "inventory" / name, calls))
    assert bad == [], "\n".join(bad)


def test_what_validate_prints_for_every_invalid_fixture_is_vietnamese_first() -> None:
    """test_invalid_inventories.py holds that these ``# expect:`` lines are exactly what the loader says."""
    lines = [
        (fixture.name, line.removeprefix("# expect: "))
        for fixture in sorted((ROOT / "tests/fixtures/invalid").glob("*.yml"))
        for line in fixture.read_text(encoding="utf-8").splitlines()
        if line.startswith("# expect: ")
    ]
    assert len(lines) >= 50
    messages = [(name, line.split(": ", 2)[2].removeprefix("warning: ")) for name, line in lines]
    bad = _english_only(iter(messages))
    assert bad == [], "\n".join(bad)


def _driver_errors() -> list[type[DriverError]]:
    seen: list[type[DriverError]] = []
    todo = [DriverError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo += cls.__subclasses__()
    return seen


def test_every_driver_error_says_its_kind_in_vietnamese_first() -> None:
    classes = _driver_errors()
    assert {"AuthError", "Unreachable", "DeviceTimeout", "ReplyTooLarge", "HostKeyError"} <= {
        c.__name__ for c in classes
    }
    bad = [c.__name__ for c in classes if not vietnamese_first(str(c.label))]
    assert bad == []
    own = [c for c in classes if "label" in vars(c)]
    assert len({c.label.vi for c in own}) == len(own), "two kinds of error share one label"
    err = errors.Unreachable("cam-01-t01", "connection failed (GET /ISAPI/System/deviceInfo; refused)")
    assert str(err) == "cam-01-t01: không kết nối được / connection failed (GET /ISAPI/System/deviceInfo; refused)"
    said = errors.AuthError("cam-01-t01", "login refused", device_said="badAuthorization")
    assert str(said) == "cam-01-t01: sai mật khẩu / login refused (device said: badAuthorization)"
    already = errors.Unsupported("cam-02", "không quản lý cấu hình / configuration not managed")
    assert str(already) == "cam-02: không quản lý cấu hình / configuration not managed"


def test_every_status_value_has_its_vietnamese_word() -> None:
    assert {r.value for r in Reason} <= set(status.WORDS)
    bad = [key for key, term in status.WORDS.items() if not vietnamese_first(str(term)) or term.en != key]
    assert bad == []
    assert status.say("no_frames") == "hình bị đứng / no_frames"
    assert status.say("ok 640x360") == "có hình / ok 640x360"
    assert status.say("onvif: Unreachable") == "lỗi ONVIF / onvif: Unreachable"


def test_the_status_table_says_each_value_in_vietnamese_and_the_json_keeps_the_english() -> None:
    fleet = load(ROOT / "tests/fixtures/mini-town").fleet
    link_router = fleet.links["link-01"].router
    health = status.Health(
        streams={"cam-t01": "no_frames", "cam-c01": "ok 640x360"},
        channels={"cam-t01": ChannelState(online=False, recording=False)},
        recorders={"nvr-01": "ok"},
        routers={link_router: False},
    )
    table = status.table(fleet, health)
    row = next(line for line in table.splitlines() if line.startswith("cam-t01"))
    assert "loại hình 2" in row and "đã nghiệm thu / commissioned" in row and "hình bị đứng / no_frames" in row
    assert "nvr-01/1: mất tín hiệu / OFFLINE" in row and f"{link_router}: mất kết nối / DOWN" in row
    assert "có hình / ok 640x360" in table and "trạng thái / status" in table
    assert status.as_json(health)["streams"] == {"cam-t01": "no_frames", "cam-c01": "ok 640x360"}


def _helps(parser: argparse.ArgumentParser, prog: str) -> Iterator[tuple[str, str]]:
    if parser.description and prog != "camfleet":
        yield f"{prog} (description)", parser.description
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                yield f"{prog} {choice.dest}", choice.help or ""
            for name, sub in action.choices.items():
                yield from _helps(sub, f"{prog} {name}")
        elif action.help and action.help not in ARGPARSE_OWN and action.help != argparse.SUPPRESS:
            yield f"{prog} {'/'.join(action.option_strings) or action.dest}", action.help


def test_cli_help_is_vietnamese_first() -> None:
    helps = list(_helps(build_parser(), "camfleet"))
    assert len(helps) > 80
    missing = [where for where, text in helps if not text and " " in where]
    bad = _english_only(iter(helps))
    assert missing + bad == [], "\n".join(missing + bad)


def _yaml_messages(node: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("msg", "fail_msg", "success_msg"):  # a list is said in order: its first item first
                yield where, "\n".join(map(str, value)) if isinstance(value, list) else str(value)
            else:
                yield from _yaml_messages(value, where)
    elif isinstance(node, list):
        for item in node:
            yield from _yaml_messages(item, where)


def _without_jinja(text: str) -> str:
    """A Jinja expression as the words it may say (its quoted phrases; a one-word literal is an attribute
    or a key), or {} when it says none."""

    def words(found: re.Match[str]) -> str:
        quoted = re.findall(r"'([^']*)'", found.group())
        return " ".join(q for q in quoted if " " in q.strip() and _says_something(q)) or "{}"  # not 'camera

    return re.sub(r"\{\{.*?\}\}|\{%.*?%\}", words, text, flags=re.S)


def test_playbook_and_role_messages_are_vietnamese_first() -> None:
    files = sorted((ROOT / "playbooks").glob("*.yml")) + sorted(
        p
        for p in (ROOT / "roles").glob("*/tasks/*.yml")
        if "monitoring" not in p.parts  # its own engineer
    )
    found = [
        (f"{p.relative_to(ROOT)}", _without_jinja(text))
        for p in files
        for where, text in _yaml_messages(yaml.safe_load(p.read_text(encoding="utf-8")), "")
    ]
    assert len(found) > 20
    bad = _english_only(iter(found))
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize("folder", ["modules", "module_utils", "jobs"])
def test_module_and_job_messages_are_vietnamese_first(folder: str) -> None:
    root = CAMFLEET / "jobs" if folder == "jobs" else MODULES / folder
    calls: dict[str, int | str] = {"*": "msg", "JobError": 0}
    bad = [line for path in sorted(root.glob("*.py")) for line in _english_only(_call_arguments(path, calls))]
    assert bad == [], "\n".join(bad)
