"""JSON Schema of an inventory file, for editors (yaml-language-server) and for review.

    .venv/bin/camfleet schema -o schema/inventory.schema.json

Each inventory file starts with ``# yaml-language-server: $schema=<relative path>``
so VS Code's YAML extension (and any editor using yaml-language-server)
completes fields and underlines mistakes as the installer types.
"""

from __future__ import annotations

import json

from camfleet.model import InventoryFile


def schema_text() -> str:
    schema = InventoryFile.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
