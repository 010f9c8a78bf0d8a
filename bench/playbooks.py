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
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.towns import BIN, generated_town, simulated  # noqa: E402
from camfleet.inventory import load  # noqa: E402
from camfleet.inventory.vault import DEMO_PASSWORD_FILE  # noqa: E402

#: The two floors: a no-op module launched as its own process (Ansible's usual per-host-task cost),
#: and a no-op that runs inside the worker like camfleet's modules do (set_fact, an action plugin).
FLOORS = {
    "launch": """---
- name: Do nothing, through a real module launch (the floor)
  ansible.builtin.ping:
  register: camera_config_result
""",
    "worker": """---
- name: Do nothing, inside the worker (the in-process floor)
  ansible.builtin.set_fact:
    camera_config_result: {changed: false, differences: []}
""",
}


def floor_roles(work: Path, kind: str) -> Path:
    """roles/camera_config with its module task swapped for a no-op: the same playbook shape."""
    roles = work / f"floor-roles-{kind}"
    shutil.copytree(ROOT / "roles" / "camera_config", roles / "camera_config", dirs_exist_ok=True)
    (roles / "camera_config" / "tasks" / "configure.yml").write_text(FLOORS[kind], encoding="utf-8")
    return roles


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and the controller's CPU seconds (ansible-playbook and its workers)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args[:3])} failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def bench_town(name: str, folder: Path, net: int, work: Path) -> None:
    state = work / f"state-{net}"
    with simulated(folder, state, net):
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "CAMFLEET_OVERLAY": str(state / "overlay.yml"),
            "ANSIBLE_VAULT_IDENTITY_LIST": f"bench@{folder / DEMO_PASSWORD_FILE}",
            "ANSIBLE_FORKS": "20",
        }
        playbook = [str(BIN / "ansible-playbook"), "-i", str(folder / "town.camfleet.yml"), "playbooks/configure.yml"]
        hosts = sum(
            1
            for c in load(folder, overlay=False).fleet.cameras.values()
            if c.is_managed and c.status.value == "commissioned"
        )
        rows = {
            "floor: no-op module launched (ping)": run(
                playbook, {**env, "ANSIBLE_ROLES_PATH": str(floor_roles(work, "launch"))}
            ),
            "floor: no-op in the worker (set_fact)": run(
                playbook, {**env, "ANSIBLE_ROLES_PATH": str(floor_roles(work, "worker"))}
            ),
            "audit (--check), module launched": run([*playbook, "--check"], {**env, "CAMFLEET_INPROCESS": "0"}),
            "audit (--check), in the worker": run([*playbook, "--check"], env),
            "apply, converged, in the worker": run(playbook, env),
        }
        launch, worker = rows["floor: no-op module launched (ping)"], rows["floor: no-op in the worker (set_fact)"]
        print(f"{name}: {hosts} cameras, forks 20 (controller CPU: ansible-playbook and its workers)")
        print(
            f"  {'':40} {'wall s':>7} {'CPU s':>7} {'CPU ms/host':>11} {'vs launch floor':>16} {'vs worker floor':>16}"
        )
        for label, (wall, cpu) in rows.items():
            print(
                f"  {label:40} {wall:7.1f} {cpu:7.1f} {cpu / hosts * 1000:11.0f}"
                f" {wall / launch[0]:7.2f}x wall {cpu / launch[1]:4.2f}x cpu"
                f" {wall / worker[0]:5.2f}x wall {cpu / worker[1]:4.2f}x cpu"
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
