"""Reading the YAML files of a town folder: fast, cached, and strict.

Parsing is the expensive part of loading a big town (PyYAML's C parser still
builds every object in Python), so a parsed file is kept twice:

* in memory, for processes that reload (the exporter, the simulator);
* on disk (``$CAMFLEET_CACHE_DIR`` or ``~/.cache/camfleet``) as a pickle of
  the plain data, keyed by the file's path, size and mtime, so a second
  ``camfleet validate`` only re-reads files that changed.

Line numbers are not tracked while parsing: most loads have no problem to
report. When there is one, :func:`locate` composes that file's node tree once
and walks it to the line of the offending key.

A file is hostile input too (the exporter reloads whatever lands in the folder): before any value
is built, the node tree is measured, and aliases that would multiply its size (a "billion laughs"
of a few hundred bytes), an alias inside its own anchor, or nesting deeper than any inventory
needs are refused at their line, as are bytes that are not UTF-8 and control characters.

    .venv/bin/python -c "from camfleet.inventory.yamlfiles import read_yaml; print(read_yaml('inventory/ngoc-lac/town.yml'))"
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from camfleet.inventory import messages
from camfleet.inventory.glossary import vietnamese_first
from camfleet.inventory.problems import DocPath

_CACHE_FORMAT = 2
VAULT_HEADER = "$ANSIBLE_VAULT;"

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlSyntaxError(Exception):
    """A file that is not valid YAML, with the 1-based line of the fault."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


class _StrictLoader(SafeLoader):  # type: ignore[misc,valid-type]
    """Safe loader that refuses duplicate keys instead of keeping the last one."""


def _check_new_key(mapping: dict[Any, Any], key: Any, key_node: yaml.Node) -> None:
    """PyYAML keeps the last of two equal keys; an inventory must not silently lose the first."""
    try:
        duplicate = key in mapping
    except TypeError:
        raise yaml.constructor.ConstructorError(
            None, None, "khóa YAML phải là giá trị đơn / a mapping key must be a plain value", key_node.start_mark
        ) from None
    if duplicate:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"khóa YAML bị trùng / duplicate key {key!r}: each key may appear once per mapping",
            key_node.start_mark,
        )


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        _check_new_key(mapping, key, key_node)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


@dataclass(frozen=True)
class _Stamp:
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class _Entry:
    stamp: _Stamp
    data: Any
    scans: dict[str, bool]


_memory: dict[Path, _Entry] = {}
#: Text patterns looked for in every file when it is parsed; the answers are cached with the data,
#: so a check that needs "does this file contain X at all?" costs nothing on a warm load.
SCANS: dict[str, re.Pattern[str]] = {}


def register_scan(name: str, pattern: re.Pattern[str]) -> None:
    SCANS[name] = pattern


def cache_dir() -> Path | None:
    """Where parsed files are kept between runs; None when caching is off."""
    configured = os.environ.get("CAMFLEET_CACHE_DIR")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "camfleet"


def is_vault_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(VAULT_HEADER)).decode("ascii", "replace") == VAULT_HEADER


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_resolved: dict[str, str] = {}


class _FastLoader(SafeLoader):  # type: ignore[misc,valid-type]
    """The C parser with a memo of resolved plain scalars (inventories repeat the same words a lot)."""

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = _resolved.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_resolved) < 200_000:
                    _resolved[value] = tag
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]


#: Values an alias may add to a file: what its own nodes are times this, plus ALIAS_ALLOWANCE.
#: A person reuses a small anchor a few times (a few hundred values); a bomb asks for millions.
ALIAS_FACTOR = 4
ALIAS_ALLOWANCE = 10_000
#: Nesting levels a file may have, aliases expanded (an inventory has about 6; Python's recursion
#: limit, which building the values and validating them share, is far above this).
MAX_DEPTH = 100


class _Refused(Exception):
    """The node tree is not an inventory's: ``alias`` is the 0-based index of the alias at fault
    (its line and anchor name come from the event stream), or ``node`` the node at fault.
    ``message`` is given the alias's anchor name."""

    def __init__(
        self, message: Callable[[str], str], *, alias: int | None = None, node: yaml.Node | None = None
    ) -> None:
        super().__init__()
        self.message = message
        self.alias = alias
        self.node = node


class _Unusual(Exception):
    """The document uses merge keys or explicit collection tags: build it the general way."""


def _build(loader: yaml.SafeLoader, node: yaml.Node, depth: int) -> Any:
    """Plain data from a node tree, like SafeConstructor but without its per-node generality."""
    if depth > MAX_DEPTH:
        raise _Refused(_too_deep, node=node)
    cls = node.__class__
    if cls is yaml.ScalarNode:
        if node.tag == _STR:
            return node.value
        constructor = loader.yaml_constructors.get(node.tag)
        if constructor is None:
            raise _Unusual
        return constructor(loader, node)
    if cls is yaml.SequenceNode and node.tag == _SEQ:
        return [_build(loader, item, depth + 1) for item in node.value]
    if cls is not yaml.MappingNode or node.tag != _MAP:
        raise _Unusual
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            raise _Unusual
        key = _build(loader, key_node, depth + 1)
        _check_new_key(mapping, key, key_node)
        mapping[key] = _build(loader, value_node, depth + 1)
    return mapping


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _measure(root: yaml.Node) -> None:
    """Refuse a tree that building would blow up: an alias fan-out, an alias cycle, deep nesting.

    The composer shares an anchored node with its aliases, so the tree costs what the file's
    text does; building plain values from it copies the node at each alias. One walk in document
    order counts both (each node's expanded size is memoised), without recursion; every visit of a
    node already met is an alias, the n-th in the file.
    """
    size: dict[int, int] = {}  # id(node) -> values it builds, aliases expanded
    height: dict[int, int] = {}  # id(node) -> levels it builds, aliases expanded
    open_: set[int] = set()  # nodes being walked: the current path
    crossings: list[tuple[int, int]] = []  # (alias index, values built so far) after each alias
    aliases = 0
    built = 0
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            continue
        if key in open_:
            raise _Refused(messages.yaml_alias_cycle, alias=aliases)
        if key in size:  # an alias of a node built already
            if depth + height[key] - 1 > MAX_DEPTH:
                raise _Refused(_too_deep, alias=aliases)
            built += size[key]
            crossings.append((aliases, built))
            aliases += 1
            continue
        if depth > MAX_DEPTH:
            raise _Refused(_too_deep, node=node)
        built += 1
        open_.add(key)
        stack.append((node, depth, True))
        stack.extend((kid, depth + 1, False) for kid in reversed(_children(node)))
    own = len(size)
    limit = ALIAS_FACTOR * own + ALIAS_ALLOWANCE
    if built > limit:
        at = next((index for index, so_far in crossings if so_far > limit), crossings[-1][0])
        raise _Refused(lambda _: messages.yaml_aliases_expand(own, limit, built), alias=at)


def _too_deep(_anchor: str) -> str:
    return messages.yaml_too_deep(MAX_DEPTH)


def _refusal(text: str, path: Path, refused: _Refused) -> YamlSyntaxError:
    """What :func:`_measure` refused, at its line (an alias's line and name are read from the event stream)."""
    if refused.node is not None:
        return YamlSyntaxError(path, int(refused.node.start_mark.line) + 1, refused.message(""))
    aliases = (event for event in yaml.parse(text, Loader=SafeLoader) if isinstance(event, yaml.AliasEvent))
    for seen, event in enumerate(aliases):
        if seen == refused.alias:
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            return YamlSyntaxError(path, line, refused.message(event.anchor or "?"))
    return YamlSyntaxError(path, None, refused.message("?"))


def _fast_load(text: str) -> Any:
    loader = _FastLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        measured = "*" in text and "&" in text  # an alias needs both: most files skip the walk
        if measured:
            _measure(node)  # before anything is built
        try:
            return _build(loader, node, 1)
        except _Unusual:
            if not measured:
                _measure(node)  # the general way builds the same tree with no limits of its own
            raise
    finally:
        loader.dispose()


#: What YAML refuses to read (YAML 1.1 §5.1, PyYAML's reader): C0 controls but tab and line ends, DEL, C1, surrogates.
_UNACCEPTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _line_and_column(text: str, index: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - start + 1


def decode(raw: bytes, path: Path) -> str:
    """A file's bytes as text, or the line and column of the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        column = len(raw[start : exc.start].decode("utf-8", "replace")) + 1
        raise YamlSyntaxError(path, line, messages.not_utf8(raw[exc.start], column)) from None


def parse_text(text: str, path: Path) -> Any:
    """Parse one YAML document strictly (duplicate keys are errors), about twice as fast as yaml.safe_load."""
    try:
        try:
            return _fast_load(text)
        except _Unusual:
            return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _Refused as exc:
        raise _refusal(text, path, exc) from None
    except yaml.reader.ReaderError:
        found = _UNACCEPTABLE.search(text)
        if found is None:
            raise YamlSyntaxError(
                path, None, "lỗi cú pháp YAML / YAML syntax: a character YAML does not allow"
            ) from None
        at, column = _line_and_column(text, found.start())
        raise YamlSyntaxError(path, at, messages.control_character(found.group(), column)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        if not vietnamese_first(message):  # our own refusals (a duplicate key) say it in Vietnamese already
            message = f"lỗi cú pháp YAML / YAML syntax: {message}"
        raise YamlSyntaxError(path, line, message) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(path, None, f"lỗi cú pháp YAML / YAML syntax: {exc}") from None
    except RecursionError:  # MAX_DEPTH keeps nesting far below the limit: only a caller's deep stack gets here
        raise YamlSyntaxError(
            path, None, "YAML lồng quá sâu / YAML nested too deeply to be an inventory file"
        ) from None


def read_yaml(path: Path | str) -> Any:
    """Parsed content of a YAML file, from cache when the file is unchanged."""
    return _entry(Path(path).resolve()).data


def text_has(path: Path | str, scan: str) -> bool:
    """Whether the file's text matched the registered scan ``scan`` (cached with the parse)."""
    return _entry(Path(path).resolve()).scans[scan]


def _entry(path: Path) -> _Entry:
    stat = path.stat()
    stamp = _Stamp(stat.st_size, stat.st_mtime_ns)
    hit = _memory.get(path)
    if hit is not None and hit.stamp == stamp and SCANS.keys() <= hit.scans.keys():
        return hit
    disk = _disk_entry(path)
    entry = _read_disk(disk, stamp) if disk else None
    if entry is None:
        text = decode(path.read_bytes(), path)
        entry = _Entry(stamp, parse_text(text, path), {name: bool(p.search(text)) for name, p in SCANS.items()})
        if disk:
            _write_disk(disk, entry)
    _memory[path] = entry
    return entry


def _disk_entry(path: Path) -> Path | None:
    base = cache_dir()
    if base is None:
        return None
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()
    return base / "yaml" / f"{digest}.pickle"


def _read_disk(file: Path, stamp: _Stamp) -> _Entry | None:
    try:
        with file.open("rb") as handle:
            fmt, cached_stamp, data, scans = pickle.load(handle)  # noqa: S301 - our own cache files
    except (OSError, pickle.PickleError, EOFError, ValueError, TypeError, AttributeError):
        return None
    if fmt != _CACHE_FORMAT or cached_stamp != stamp or not SCANS.keys() <= scans.keys():
        return None
    return _Entry(stamp, data, scans)


def _write_disk(file: Path, entry: _Entry) -> None:
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            pickle.dump((_CACHE_FORMAT, entry.stamp, entry.data, entry.scans), handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(file)
    except OSError:
        pass  # a read-only home is no reason to fail validation


def locate(path: Path, doc_paths: list[DocPath]) -> dict[DocPath, int | None]:
    """1-based line of each document path in a file (the nearest existing ancestor when missing)."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {p: None for p in doc_paths}
    return {p: _walk(root, p) for p in doc_paths}


def _walk(node: yaml.Node | None, doc_path: DocPath) -> int | None:
    if node is None:
        return None
    line = node.start_mark.line + 1
    for step in doc_path:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == step:
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line
