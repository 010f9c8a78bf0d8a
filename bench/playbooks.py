"""The configure audit on the reference town and a generated 500-camera town, next to Ansible's own floor.

    .venv/bin/python bench/playbooks.py                 # 70-camera town and a 500-camera town
    .venv/bin/python bench/playbooks.py --cameras 200

Ansible's controller CPU is the limit on 2 cores: every host-task costs a module launch whatever
the module does. The floor is the same playbook (configure.yml, its role's preflight, its summary)
with the camera_config module swapped for ``ansible.builtin.ping``; the ratio says how much the
real module adds per host on top of that floor, for the audit (`--check`: read every camera
over HTTP, diff) and for a converged apply. Each town is simulated on loopback; forks 20.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from camfleet.inventory import load  # noqa: E402
from camfleet.inventory.synthetic import TOWN_SHARE, write_town  # noqa: E402
from camfleet.inventory.vault import DEMO_PASSWORD_FILE, encrypt_vault  # noqa: E402

BIN = ROOT / ".venv" / "bin"
PASSWORD = "Bench-pass-2024"  # noqa: S105 - the generated town's only device password, loopback only
VAULT_PASSWORD = b"bench-vault-password"
FLOOR_TASK = """---
- name: Do nothing, through a real module launch (the floor)
  ansible.builtin.ping:
  register: camera_config_result
"""


def floor_roles(work: Path) -> Path:
    """roles/camera_config with its module task swapped for a no-op module: the same playbook shape."""
    roles = work / "floor-roles"
    shutil.copytree(ROOT / "roles" / "camera_config", roles / "camera_config", dirs_exist_ok=True)
    (roles / "camera_config" / "tasks" / "configure.yml").write_text(FLOOR_TASK, encoding="utf-8")
    return roles


def generated_town(folder: Path, cameras: int) -> Path:
    """A synthetic town with a vault and an inventory source, ready for the simulator and Ansible."""
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


def run(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args[:3])} failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    return time.perf_counter() - start


def bench_town(name: str, folder: Path, net: int, work: Path) -> None:
    state = work / f"state-{net}"
    subprocess.run(
        [
            str(BIN / "camfleet"),
            "sim",
            "up",
            str(folder),
            "--state",
            str(state),
            "--net",
            str(net),
            "--detach",
            "--prefill-days",
            "0",
            "--vault-password-file",
            str(folder / DEMO_PASSWORD_FILE),
        ],
        check=True,
        cwd=ROOT,
    )
    try:
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "CAMFLEET_OVERLAY": str(state / "overlay.yml"),
            "ANSIBLE_VAULT_IDENTITY_LIST": f"bench@{folder / DEMO_PASSWORD_FILE}",
            "ANSIBLE_FORKS": "20",
        }
        inventory = ["-i", str(folder / "town.camfleet.yml")]
        hosts = sum(
            1
            for c in load(folder, overlay=False).fleet.cameras.values()
            if c.is_managed and c.status.value == "commissioned"
        )
        floor_env = {**env, "ANSIBLE_ROLES_PATH": str(floor_roles(work))}
        floor = run([str(BIN / "ansible-playbook"), *inventory, "playbooks/configure.yml"], floor_env)
        audit = run([str(BIN / "ansible-playbook"), *inventory, "playbooks/configure.yml", "--check"], env)
        apply = run([str(BIN / "ansible-playbook"), *inventory, "playbooks/configure.yml"], env)
        print(f"{name}: {hosts} cameras, forks 20")
        print(f"  floor (same playbook, no-op module)  {floor:7.1f} s  {floor / hosts * 1000:6.0f} ms/host")
        print(
            f"  configure.yml --check (the audit)    {audit:7.1f} s  {audit / hosts * 1000:6.0f} ms/host  {audit / floor:4.2f}x floor"
        )
        print(
            f"  configure.yml (converged, no change) {apply:7.1f} s  {apply / hosts * 1000:6.0f} ms/host  {apply / floor:4.2f}x floor"
        )
    finally:
        subprocess.run(
            [str(BIN / "camfleet"), "sim", "down", "--state", str(state)], cwd=ROOT, check=False, capture_output=True
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=500, help="cameras of the generated town (0: skip it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="camfleet-bench-pb-") as tmp:
        work = Path(tmp)
        os.environ["CAMFLEET_CACHE_DIR"] = str(work / "cache")
        reference = work / "ngoc-lac"
        shutil.copytree(ROOT / "inventory" / "ngoc-lac", reference)
        bench_town("reference town (Ngọc Lặc)", reference, 130, work)
        if args.cameras:
            bench_town(
                f"generated town of {args.cameras} cameras", generated_town(work / "big", args.cameras), 133, work
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
