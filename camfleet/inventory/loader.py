"""Load a town folder into a :class:`Fleet`, reporting every problem at once.

.venv/bin/camfleet validate inventory/ngoc-lac
"""

from __future__ import annotations

import contextlib
import gc
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from camfleet.inventory import checks
from camfleet.inventory.fleet import Fleet, Origin, firmware_key
from camfleet.inventory.messages import did_you_mean, dotted, explain
from camfleet.inventory.overlay import apply_overlay, overlay_for
from camfleet.inventory.problems import DocPath, InventoryError, Problem, Severity
from camfleet.inventory.yamlfiles import YamlSyntaxError, is_vault_file, locate, read_yaml
from camfleet.model import (
    SECTION_MODELS,
    SECTIONS,
    InventoryFile,
    Strict,
    Town,
)

#: Files in these folders are Ansible variables, not inventory data.
VARS_FOLDERS = frozenset({"group_vars", "host_vars"})
#: Encrypted files only: device secrets and personal data (names, phones), loaded by the jobs that need them.
VAULT_FOLDER = "vault"
#: Inventory plugin configuration files (``plugin: camfleet.fleet.town``).
PLUGIN_CONFIG_SUFFIXES = (".camfleet.yml", ".camfleet.yaml")
TOP_LEVEL_KEYS = tuple(InventoryFile.model_fields)


@dataclass
class Draft:
    """Problems found so far, with document paths still to be turned into lines."""

    problems: list[Problem] = field(default_factory=list)

    def add(
        self,
        where: tuple[Path, DocPath],
        label: str,
        message: str,
        severity: Severity = Severity.error,
    ) -> None:
        file, path = where
        self.problems.append(Problem(file, None, label, message, severity, path))

    def extend(self, items: Iterable[Problem]) -> None:
        self.problems.extend(items)

    @property
    def has_errors(self) -> bool:
        return any(p.severity is Severity.error for p in self.problems)

    def located(self) -> list[Problem]:
        """Every problem with its line filled in, sorted by file and line."""
        by_file: dict[Path, list[DocPath]] = {}
        for p in self.problems:
            if p.line is None and p.path:
                by_file.setdefault(p.file, []).append(p.path)
        lines: dict[tuple[Path, DocPath], int | None] = {}
        for file, paths in by_file.items():
            for doc_path, line in locate(file, paths).items():
                lines[(file, doc_path)] = line
        out = [
            Problem(p.file, lines.get((p.file, p.path), p.line), p.field, p.message, p.severity, p.path)
            if p.line is None and p.path
            else p
            for p in self.problems
        ]
        return sorted(out, key=lambda p: (str(p.file), p.line or 0, p.field, p.message))


@dataclass
class LoadResult:
    fleet: Fleet
    warnings: list[Problem]


def inventory_files(folder: Path) -> list[Path]:
    """The data files of a town folder, in a stable order."""
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.suffix not in (".yml", ".yaml") or not path.is_file():
            continue
        if any(part.startswith(".") for part in rel.parts) or (VARS_FOLDERS | {VAULT_FOLDER}) & set(rel.parts[:-1]):
            continue
        if path.name.endswith(PLUGIN_CONFIG_SUFFIXES):
            continue
        found.append(path)
    return found


def vars_files(folder: Path) -> list[Path]:
    """Ansible variable files of the folder (checked for plaintext secrets only)."""
    return sorted(
        p
        for sub in VARS_FOLDERS
        for p in (folder / sub).rglob("*")
        if p.is_file() and p.suffix in (".yml", ".yaml", ".json", "")
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading allocates hundreds of thousands of objects and frees none: the cyclic garbage
    collector would only re-scan them again and again (it doubles the time of a big town)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load(folder: Path | str, *, overlay: Path | str | Literal[False] | None = None, reuse: bool = False) -> LoadResult:
    """Load and validate a town folder; raise :class:`InventoryError` listing every error.

    ``overlay`` swaps in the simulator's loopback addresses after validation: a path, or by
    default ``$CAMFLEET_OVERLAY`` when it is set; ``False`` never applies one.

    ``reuse=True`` hands back the town this process (or the process it was forked from) already
    validated, as long as no file of the folder changed (path, size, mtime, inode): Ansible's
    inventory plugin loads the town once in ``ansible-playbook`` and every forked worker that runs
    a camfleet module finds it there. The shared fleet must not be modified (the overlay never
    modifies it: :meth:`Fleet.endpoint` answers from it).
    """
    path = Path(folder).resolve()
    if reuse:
        result = _shared(path)
    else:
        with _collector_paused():
            result = _load(path)
    chosen = overlay_for(result.fleet.town.id, overlay) if overlay is not False else None
    if chosen is not None:
        result = LoadResult(apply_overlay(result.fleet, chosen), result.warnings)
    return result


#: Towns validated by this process, for ``load(reuse=True)``: folder → (file signature, result).
_SHARED: dict[Path, tuple[tuple[tuple[str, int, int, int], ...], LoadResult]] = {}


def _signature(folder: Path) -> tuple[tuple[str, int, int, int], ...]:
    """Every file under the folder with its size, mtime and inode: any edit changes it."""
    found = []
    for path in folder.rglob("*"):
        if path.name == "known_hosts":  # the routers' pinned SSH keys: written at first contact, not town data
            continue
        try:
            st = path.stat()
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            found.append((str(path), st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(sorted(found))


def _shared(folder: Path) -> LoadResult:
    signature = _signature(folder)
    held = _SHARED.get(folder)
    if held is not None and held[0] == signature:
        return held[1]
    with _collector_paused():
        result = _load(folder)
    _SHARED[folder] = (signature, result)
    return result


def _load(folder: Path) -> LoadResult:
    draft = Draft()
    if not folder.is_dir():
        raise InventoryError(
            [Problem(folder, None, "(folder)", "không có thư mục dữ liệu này / no such inventory folder")]
        )
    files = inventory_files(folder)
    if not files:
        raise InventoryError(
            [
                Problem(
                    folder,
                    None,
                    "(folder)",
                    "không có tệp dữ liệu nào / no inventory files (*.yml) here; is this a town folder?",
                )
            ]
        )
    documents = [(f, doc) for f in files if (doc := _read(f, draft)) is not None]
    for vf in vars_files(folder):
        if not is_vault_file(vf):
            doc = _read(vf, draft)
            if doc is not None:
                draft.extend(checks.plaintext_secrets(vf, doc, vars_file=True))
    for vf in sorted((folder / VAULT_FOLDER).rglob("*.y*ml")):
        if not is_vault_file(vf):
            draft.problems.append(
                Problem(
                    vf,
                    1,
                    "(file)",
                    f"tệp bí mật chưa được mã hóa / not encrypted: run '.venv/bin/ansible-vault encrypt {vf.name}' before committing it",
                )
            )

    fleet = _assemble(folder, documents, draft)
    if fleet is None:
        raise InventoryError(draft.located())
    fleet.files = files
    for check in checks.ALL:
        draft.extend(check(fleet))
    located = draft.located()
    if draft.has_errors:
        raise InventoryError(located)
    return LoadResult(fleet, [p for p in located if p.severity is Severity.warning])


def load_fleet(folder: Path | str) -> Fleet:
    """The validated fleet of a town folder (warnings dropped)."""
    return load(folder).fleet


def _read(path: Path, draft: Draft) -> dict[str, Any] | None:
    if is_vault_file(path):
        draft.problems.append(
            Problem(
                path,
                1,
                "(file)",
                f"tệp ansible-vault lẫn trong dữ liệu / an ansible-vault file among the inventory data; move it into {VAULT_FOLDER}/",
            )
        )
        return None
    try:
        doc = read_yaml(path)
    except YamlSyntaxError as exc:
        draft.problems.append(Problem(path, exc.line, "(yaml)", exc.message))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        draft.problems.append(Problem(path, None, "(file)", f"không đọc được tệp / cannot read: {exc}"))
        return None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        draft.problems.append(
            Problem(
                path,
                1,
                "(file)",
                f"tệp phải gồm các mục / the file must be a mapping of sections ({', '.join(TOP_LEVEL_KEYS)})",
            )
        )
        return None
    return doc


@dataclass
class FileResult:
    """What one file holds once validated; kept per parsed document, so a reload re-validates only changed files."""

    town: Town | None = None
    items: dict[str, list[tuple[int, Strict]]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


# id(document) → (document, result); the document is kept so its id is not reused.
_validated: dict[int, tuple[Any, FileResult]] = {}


def _file_result(file: Path, doc: dict[str, Any]) -> FileResult:
    hit = _validated.get(id(doc))
    if hit is not None and hit[0] is doc:
        return hit[1]
    draft = Draft()
    result = FileResult()
    draft.extend(checks.plaintext_secrets(file, doc, vars_file=False))
    for key, value in doc.items():
        if key == "town":
            result.town = _validate(Town, value, file, ("town",), "town", draft)  # type: ignore[assignment]
        elif key in SECTION_MODELS:
            result.items[key] = _validate_section(key, value, file, draft)
        else:
            hint = did_you_mean(str(key), TOP_LEVEL_KEYS)
            draft.add(
                (file, (str(key),)),
                str(key),
                f"mục không hợp lệ / unknown section{hint}; sections are: {', '.join(TOP_LEVEL_KEYS)}",
            )
    result.problems = draft.problems
    _validated[id(doc)] = (doc, result)
    return result


def _validate_section(section: str, value: Any, file: Path, draft: Draft) -> list[tuple[int, Strict]]:
    if value is None:
        return []
    if not isinstance(value, list):
        draft.add(
            (file, (section,)), section, "phải là một danh sách / must be a list of entries (each starting with '- ')"
        )
        return []
    try:  # one call for the whole list: the common, valid case
        return list(enumerate(_LIST_ADAPTERS[section].validate_python(value)))
    except ValidationError:
        pass
    model = SECTION_MODELS[section]
    out = []
    for index, raw in enumerate(value):
        parsed = _validate(model, raw, file, (section, index), _label(section, index, raw), draft)
        if parsed is not None:
            out.append((index, parsed))
    return out


_LIST_ADAPTERS: dict[str, TypeAdapter[list[Any]]] = {
    name: TypeAdapter(list[model])  # type: ignore[valid-type]
    for name, model in SECTION_MODELS.items()
}


def _assemble(folder: Path, documents: list[tuple[Path, dict[str, Any]]], draft: Draft) -> Fleet | None:
    town: tuple[Town, Origin] | None = None
    sections: dict[str, dict[str, Strict]] = {name: {} for name in SECTIONS}
    origins: dict[tuple[str, str], Origin] = {}
    towns_clash = False

    for file, doc in documents:
        result = _file_result(file, doc)
        draft.extend(result.problems)
        if result.town is not None:
            if town is not None:
                towns_clash = True
                draft.add(
                    (file, ("town",)),
                    "town",
                    f"có hai mục town / a second town section (the first is in {town[1].file.name}); one folder holds one town",
                )
            else:
                town = (result.town, Origin(file, ("town",)))
        for section, items in result.items.items():
            _collect(section, items, file, sections, origins, draft)
    if town is None or towns_clash:
        if town is None and not draft.has_errors:
            draft.problems.append(
                Problem(
                    folder,
                    None,
                    "town",
                    "thiếu mục town / no file has a 'town' section; add one (see templates/town/town.yml.j2, or run camfleet town new)",
                )
            )
        return None
    fleet = Fleet(folder=folder, town=town[0], town_origin=town[1], origins=origins)
    for name, entries in sections.items():
        setattr(fleet, name, entries)
    return fleet


def _collect(
    section: str,
    items: list[tuple[int, Strict]],
    file: Path,
    sections: dict[str, dict[str, Strict]],
    origins: dict[tuple[str, str], Origin],
    draft: Draft,
) -> None:
    known = sections[section]
    for index, parsed in items:
        key = _key(section, parsed)
        seen = origins.get((section, key))
        if seen is not None:
            draft.add(
                (file, (section, index, "id" if section != "firmware" else "model")),
                key,
                f"mã bị trùng / duplicate {section[:-1].replace('_', ' ')} '{key}'; first defined in "
                f"{seen.file.name} ({section}[{seen.path[1]}]); give each a unique id",
            )
            continue
        known[key] = parsed
        origins[(section, key)] = Origin(file, (section, index))


def _key(section: str, item: Strict) -> str:
    if section == "firmware":
        return firmware_key(item.vendor, item.model)  # type: ignore[attr-defined]
    return item.id  # type: ignore[attr-defined,no-any-return]


def _label(section: str, index: int, raw: Any) -> str:
    if isinstance(raw, dict):
        ident = raw.get("id") or raw.get("model")
        if isinstance(ident, str) and ident:
            return ident
    return f"{section}[{index}]"


def _validate(model: type[Strict], raw: Any, file: Path, path: DocPath, label: str, draft: Draft) -> Strict | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            field_label = dotted(label, *loc)
            draft.add((file, path + loc), field_label, explain(err, model, loc))
        return None
