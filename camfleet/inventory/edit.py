"""Small, surgical edits of the inventory's YAML files: one value changed, every comment and line kept.

Playbooks record what they proved on a device (a firmware build after an upgrade) back into the
source of truth. Re-dumping the YAML would lose the installers' comments and ordering, so an edit
touches one line: the value's own line when the key exists, else one new line in its mapping.

    .venv/bin/python -c "from camfleet.inventory.edit import set_scalar; from pathlib import Path; \\
        print(set_scalar(Path('inventory/ngoc-lac/station.yml'), ('recorders', 0), 'firmware', 'V4.62.210 build 230306'))"
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

from camfleet.inventory.fleet import Fleet
from camfleet.inventory.problems import DocPath

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]


class EditError(ValueError):
    """The file does not have the shape the edit expects (it will not be guessed at)."""


def set_scalar(file: Path, where: DocPath, key: str, value: str) -> bool:
    """Set ``key: value`` in the mapping at ``where`` of ``file``; False when it already says so.

    Written through a temporary file and a rename, so a reader never sees half a file, under a
    lock on the folder, so two writers never lose each other's edit.
    """
    with _folder_locked(file.parent):  # parallel workers edit files of the same khu phố
        return _set_scalar(file, where, key, value)


@contextlib.contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on the folder itself (flock on its descriptor): no lock files to leave behind."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _set_scalar(file: Path, where: DocPath, key: str, value: str) -> bool:
    text = file.read_text(encoding="utf-8")
    node = _node(yaml.compose(text, Loader=SafeLoader), where, file)
    lines = text.split("\n")
    rendered = yaml.safe_dump({key: value}, allow_unicode=True, width=10_000).rstrip("\n")
    if "\n" in rendered:
        raise EditError(f"{file}: {key}: a value on one line expected")
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            if not isinstance(value_node, yaml.ScalarNode) or value_node.start_mark.line != value_node.end_mark.line:
                raise EditError(f"{file}:{key_node.start_mark.line + 1}: {key}: a one-line value expected")
            if value_node.value == value:
                return False
            row = value_node.start_mark.line
            line = lines[row]
            new_value = rendered.split(": ", 1)[1]
            lines[row] = line[: value_node.start_mark.column] + new_value + line[value_node.end_mark.column :]
            break
    else:
        if not node.value:
            raise EditError(f"{file}: {'.'.join(map(str, where))}: an empty mapping; add {key} by hand")
        column = node.value[0][0].start_mark.column
        lines.insert(_last_line(node) + 1, " " * column + rendered)
    tmp = file.with_suffix(file.suffix + ".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(file)
    return True


def _last_line(node: yaml.Node) -> int:
    """0-based last line holding text of ``node``. A block collection's end mark is the next
    token (the next list item, a key of the parent, several lines down), so only scalars and
    flow collections, whose end marks are exact, are trusted; comments and blank lines after the
    last value belong to what follows."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        end = node.end_mark
        return end.line if end.column > 0 else end.line - 1
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    return max((_last_line(child) for child in children), default=node.start_mark.line)


def _node(root: yaml.Node | None, where: DocPath, file: Path) -> yaml.MappingNode:
    node = root
    for step in where:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
        else:
            node = None
        if node is None:
            raise EditError(f"{file}: no {'.'.join(map(str, where))} in this file")
    if not isinstance(node, yaml.MappingNode) or node.flow_style:
        raise EditError(f"{file}: {'.'.join(map(str, where))} is not a block mapping")
    return node


def set_block(
    file: Path, where: DocPath, key: str, values: dict[str, Scalar], *, validate: Validator | None = None
) -> bool:
    """Set ``key:`` to a block mapping holding ``values`` in the mapping at ``where``; False when it
    already says so. An existing block keeps its other keys, its comments and its order (each value
    changes its own line, a missing one is one new line); a missing block is inserted after the
    mapping's last line, indented as the file indents its blocks.

    ``validate(new_text)`` sees the whole new file before anything is written and raises to refuse
    it; then the file is replaced atomically (temporary file, rename), under the folder's lock.
    """
    with _folder_locked(file.parent):
        text = file.read_text(encoding="utf-8")
        new_text = _with_block(text, file, where, key, values)
        if new_text == text:
            return False
        if validate is not None:
            validate(new_text)
        _write_atomic(file, new_text)
        return True


#: Called with a file's new text before it is written; raises (e.g. InventoryError) to refuse it.
Validator = Callable[[str], None]
#: A value written as YAML writes it (a date unquoted: ``installed_on: 2024-01-10``).
Scalar = str | int | dt.date


def _write_atomic(file: Path, text: str) -> None:
    tmp = file.with_suffix(file.suffix + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(file)
    finally:
        tmp.unlink(missing_ok=True)


def _with_block(text: str, file: Path, where: DocPath, key: str, values: dict[str, Scalar]) -> str:
    node = _node(yaml.compose(text, Loader=SafeLoader), where, file)
    lines = text.split("\n")
    rendered = {}
    for name, value in values.items():
        line = yaml.safe_dump({name: value}, allow_unicode=True, width=10_000).rstrip("\n")
        if "\n" in line:
            raise EditError(f"{file}: {key}.{name}: a value on one line expected")
        rendered[name] = line
    existing = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
    if isinstance(existing, yaml.MappingNode) and existing.flow_style:
        return _replaced_flow(text, file, existing, key, values)
    if existing is not None:
        if not isinstance(existing, yaml.MappingNode) or not existing.value:
            line = existing.start_mark.line + 1
            raise EditError(f"{file}:{line}: {key}: a block mapping expected; edit it by hand")
        for name, value in values.items():
            text = _replaced_scalar(text, file, existing, name, value, rendered[name])
            existing = _node(yaml.compose(text, Loader=SafeLoader), (*where, key), file)
        return text
    if not node.value:
        raise EditError(f"{file}: {'.'.join(map(str, where))}: an empty mapping; add {key} by hand")
    column = node.value[0][0].start_mark.column
    nested = [v for _, v in node.value if isinstance(v, yaml.MappingNode) and not v.flow_style and v.value]
    step = (nested[0].value[0][0].start_mark.column - column) if nested else 2
    block = [" " * column + f"{yaml.safe_dump(key).splitlines()[0].removesuffix('...').strip()}:"]
    block += [" " * (column + step) + rendered[name] for name in values]
    at = _last_line(node) + 1
    lines[at:at] = block
    return "\n".join(lines)


def _replaced_flow(text: str, file: Path, node: yaml.MappingNode, key: str, values: dict[str, Scalar]) -> str:
    """A one-line flow mapping (``sign: {installed_on: 2023-09-01}``) rewritten on its line, with the
    values merged in its order; whatever follows it on the line (a comment) is kept."""
    start, end = node.start_mark, node.end_mark
    if start.line != end.line:
        raise EditError(f"{file}:{start.line + 1}: {key}: a flow mapping on one line expected; edit it by hand")
    current: dict[str, object] = {}
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode) or not isinstance(v, yaml.ScalarNode):
            raise EditError(f"{file}:{start.line + 1}: {key}: plain values expected; edit it by hand")
        current[k.value] = yaml.safe_load(yaml.serialize(v, Dumper=yaml.SafeDumper))
    merged = {**current, **values}
    if merged == current:
        return text
    flow = yaml.safe_dump(merged, default_flow_style=True, allow_unicode=True, width=10_000, sort_keys=False)
    lines = text.split("\n")
    line = lines[start.line]
    lines[start.line] = line[: start.column] + flow.strip() + line[end.column :]
    return "\n".join(lines)


def _replaced_scalar(text: str, file: Path, node: yaml.MappingNode, key: str, value: Scalar, rendered: str) -> str:
    """``text`` with ``key`` of the block ``node`` set to ``value``: its own line changed, or one line added."""
    lines = text.split("\n")
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            if not isinstance(value_node, yaml.ScalarNode) or value_node.start_mark.line != value_node.end_mark.line:
                raise EditError(f"{file}:{key_node.start_mark.line + 1}: {key}: a one-line value expected")
            if value_node.value == str(value):
                return text
            row = value_node.start_mark.line
            line = lines[row]
            new_value = rendered.split(": ", 1)[1]
            lines[row] = line[: value_node.start_mark.column] + new_value + line[value_node.end_mark.column :]
            return "\n".join(lines)
    column = node.value[0][0].start_mark.column
    lines.insert(_last_line(node) + 1, " " * column + rendered)
    return "\n".join(lines)


def record_firmware(fleet: Fleet, device_id: str, build: str) -> bool:
    """Write the build a camera or recorder reported into its inventory entry; False if already so."""
    if device_id in fleet.cameras:
        origin = fleet.origin("cameras", device_id)
        where: DocPath = (*origin.path, "device")
    elif device_id in fleet.recorders:
        origin = fleet.origin("recorders", device_id)
        where = origin.path
    else:
        raise EditError(f"{device_id}: no camera or recorder with this id in the inventory")
    return set_scalar(origin.file, where, "firmware", build)
