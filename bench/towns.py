"""Generated towns for the benchmarks: a synthetic inventory with a vault, and its simulation on loopback.

    .venv/bin/python -c "from pathlib import Path; from bench.towns import generated_town; \\
        generated_town(Path('/tmp/big'), 500)"

Shared by ``bench/playbooks.py`` and ``bench/exporter.py``: every device of the town gets the
same password (loopback only), written to an ansible-vault that the demo password file opens,
so the simulator, Ansible and the exporter all find their logins where a real town keeps them.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from camfleet.inventory import load  # noqa: E402
from camfleet.inventory.synthetic import TOWN_SHARE, write_town  # noqa: E402
from camfleet.inventory.vault import DEMO_PASSWORD_FILE, encrypt_vault  # noqa: E402

BIN = ROOT / ".venv" / "bin"
PASSWORD = "Bench-pass-2024"  # noqa: S105 - the generated town's only device password, loopback only
VAULT_PASSWORD = b"bench-vault-password"


def generated_town(folder: Path, cameras: int) -> Path:
    """A synthetic town of ``cameras`` town cameras with a vault and an inventory source."""
    write_town(folder, int(cameras / TOWN_SHARE) + 1)
    fleet = load(folder, overlay=False).fleet
    creds = {
        i: {"username": "admin", "password": PASSWORD} for i in [*fleet.cameras, *fleet.recorders, *fleet.link_routers]
    }
    creds |= {f"{r}-channel-user": {"username": "nvrpull", "password": PASSWORD} for r in fleet.recorders}
    (folder / "vault").mkdir(exist_ok=True)
    text = yaml.safe_dump({"vault_device_credentials": creds}).encode()
    (folder / "vault" / "secrets.yml").write_bytes(encrypt_vault(text, VAULT_PASSWORD, "bench"))
    (folder / DEMO_PASSWORD_FILE).write_bytes(VAULT_PASSWORD + b"\n")
    (folder / "town.camfleet.yml").write_text("plugin: camfleet.fleet.town\n", encoding="utf-8")
    return folder


@contextmanager
def simulated(folder: Path, state: Path, net: int) -> Iterator[Path]:
    """``camfleet sim up --detach`` on 127.<net>-<net+2>.x.y for the block; yields the overlay file."""
    subprocess.run(
        [
            *(str(BIN / "camfleet"), "sim", "up", str(folder), "--state", str(state), "--net", str(net)),
            *("--detach", "--prefill-days", "0", "--vault-password-file", str(folder / DEMO_PASSWORD_FILE)),
        ],
        check=True,
        cwd=ROOT,
    )
    try:
        yield state / "overlay.yml"
    finally:
        subprocess.run(
            [str(BIN / "camfleet"), "sim", "down", "--state", str(state)], cwd=ROOT, check=False, capture_output=True
        )
