"""Small, surgical edits of the inventory's YAML files: one value changed, every comment and line kept.

Playbooks record what they proved on a device (a firmware build after an upgrade) back into the
source of truth. Re-dumping the YAML would lose the installers' comments and ordering, so an edit
touches one line: the value's own line when the key exists, else one new line in its mapping.

    .venv/bin/python -c "from camfleet.inventory.edit import set_scalar; from pathlib import Path; \\
        print(set_scalar(Path('inventory/ngoc-lac/station.yml'), ('recorders', 0), 'firmware', 'V4.62.210 build 230306'))"
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
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
