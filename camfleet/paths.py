"""Where the repository's non-Python parts live (templates, schema), found from the package."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root: camfleet runs from a checkout (``make setup`` installs it editable).
ROOT = Path(os.environ.get("CAMFLEET_HOME", Path(__file__).resolve().parent.parent))
TEMPLATES = ROOT / "templates"
SCHEMA = ROOT / "schema" / "inventory.schema.json"
