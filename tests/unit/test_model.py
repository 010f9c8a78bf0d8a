"""The schema itself: documented fields, an up-to-date JSON Schema, editor hints in every file."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from camfleet.inventory import inventory_files
from camfleet.inventory.schema import schema_text
from camfleet.model import SECTION_MODELS, InventoryFile, Town
from camfleet.paths import SCHEMA
from tests.conftest import TOWN


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for info in model.model_fields.values():
        for inner in _nested(info.annotation):
            _models(inner, seen)


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _nested(arg)]


def test_every_field_has_a_description() -> None:
    seen: set[type[BaseModel]] = set()
    _models(InventoryFile, seen)
    assert Town in seen and all(m in seen for m in SECTION_MODELS.values())
    undocumented = [
        f"{m.__name__}.{name}" for m in seen for name, info in m.model_fields.items() if not info.description
    ]
    assert undocumented == []


def test_every_model_forbids_unknown_fields() -> None:
    seen: set[type[BaseModel]] = set()
    _models(InventoryFile, seen)
    assert {m.__name__ for m in seen if m.model_config.get("extra") != "forbid"} == set()


def test_committed_schema_is_current() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), "run: make schema"


def test_inventory_files_carry_the_editor_schema_hint() -> None:
    for path in inventory_files(TOWN):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1]).resolve()
        assert target == SCHEMA.resolve(), path
