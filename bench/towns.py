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

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from camfleet.inventory.synthetic import PASSWORD, simulable_town  # noqa: E402
from camfleet.inventory.vault import DEMO_PASSWORD_FILE  # noqa: E402

BIN = ROOT / ".venv" / "bin"
__all__ = ["BIN", "PASSWORD", "generated_town", "simulated"]


def generated_town(folder: Path, cameras: int) -> Path:
    """A synthetic town of ``cameras`` town cameras with a vault and an inventory source."""
    return simulable_town(folder, cameras)


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
