"""Regenerate the pinned `ansible-inventory --list` output of the reference town.

Run after a deliberate change to the inventory plugin or the reference town:

    make golden        # or: .venv/bin/python tests/golden/regenerate.py

then review `git diff tests/golden/` like any other change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "ngoc-lac.inventory.json"


def inventory_list() -> dict[str, object]:
    """`ansible-inventory --list` of the reference town, without any overlay."""
    env = {k: v for k, v in os.environ.items() if k != "CAMFLEET_OVERLAY"}
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_INVENTORY"] = str(ROOT / "inventory" / "ngoc-lac" / "town.camfleet.yml")  # ansible.cfg names no town
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-inventory"), "--list"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> int:
    GOLDEN.write_text(
        json.dumps(inventory_list(), indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {GOLDEN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
