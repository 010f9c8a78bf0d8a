"""Inventory load + validate time on a generated town, side by side with a plain yaml.safe_load.

    .venv/bin/python bench/inventory.py               # 10,000 cameras
    .venv/bin/python bench/inventory.py --cameras 2000 --ansible 1000

Every number is measured in this run, next to its baseline, and printed as a
ratio; nothing here gates CI. "warm (new process)" is a second `camfleet
validate`: the parse cache on disk is used, memory is empty. "warm (reload)" is
a long-running process (exporter, simulator) loading again with nothing
changed; "reload, 1 file changed" touches one khu phố file first.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from camfleet.inventory import load, loader, yamlfiles  # noqa: E402
from camfleet.inventory.hostvars import hosts_of  # noqa: E402
from camfleet.inventory.synthetic import write_town  # noqa: E402


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best of ``repeat`` wall-clock runs (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def forget_memory() -> None:
    yamlfiles._memory.clear()
    loader._validated.clear()


def plain_safe_load(files: list[Path], gc_on: bool) -> None:
    was = gc.isenabled()
    (gc.enable if gc_on else gc.disable)()
    try:
        for f in files:
            yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    finally:
        (gc.enable if was else gc.disable)()


def ansible_inventory_seconds(inventory: Path, cwd: Path) -> float:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "CAMFLEET_CACHE_DIR": os.environ["CAMFLEET_CACHE_DIR"],
    }
    start = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-inventory"), "-i", str(inventory), "--list"],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        timeout=1800,
    )
    return time.perf_counter() - start


def bench_ansible(cameras: int, work: Path) -> None:
    """ansible-inventory through the plugin vs the same hosts and vars as a static YAML file (Ansible's floor)."""
    town = write_town(work / f"ansible-{cameras}", cameras)
    plugin_cfg = town / "town.camfleet.yml"
    plugin_cfg.write_text("plugin: camfleet.fleet.town\n", encoding="utf-8")
    hosts = hosts_of(load(town).fleet)
    static: dict[str, dict[str, object]] = {"all": {"children": {}}}
    children = static["all"]["children"]
    assert isinstance(children, dict)
    for host in hosts:
        for group in host["groups"]:
            children.setdefault(group, {"hosts": {}})["hosts"][host["name"]] = None
    static["all"]["hosts"] = {h["name"]: h["vars"] for h in hosts}
    static_file = work / f"static-{cameras}.yml"
    static_file.write_text(yaml.safe_dump(static), encoding="utf-8")
    ansible_inventory_seconds(plugin_cfg, ROOT)  # fills the parse cache, as a second run would find it
    with_plugin = ansible_inventory_seconds(plugin_cfg, ROOT)
    floor = ansible_inventory_seconds(static_file, ROOT)
    print(f"ansible-inventory --list, {cameras} cameras ({len(hosts)} hosts):")
    print(f"  camfleet.fleet.town plugin   {with_plugin:7.2f} s")
    print(f"  same hosts as static YAML    {floor:7.2f} s   (Ansible's own floor)")
    print(f"  ratio plugin / floor         {with_plugin / floor:7.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=10_000)
    parser.add_argument(
        "--ansible", type=int, default=1_000, help="cameras for the ansible-inventory comparison (0: skip)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="camfleet-bench-") as tmp:
        work = Path(tmp)
        os.environ["CAMFLEET_CACHE_DIR"] = str(work / "cache")
        town = write_town(work / "town", args.cameras)
        files = loader.inventory_files(town)
        size = sum(f.stat().st_size for f in files) / 1e6
        fleet = load(town).fleet  # validates, and fills the caches
        print(
            f"town: {len(fleet.cameras)} cameras, {len(fleet.households)} households, {len(fleet.links)} links, "
            f"{len(fleet.recorders)} recorders in {len(files)} files ({size:.1f} MB)"
        )

        safe_gc = timed(lambda: plain_safe_load(files, gc_on=True), 1)
        safe = timed(lambda: plain_safe_load(files, gc_on=False), 1)

        def cold() -> None:
            forget_memory()
            os.environ["CAMFLEET_CACHE_DIR"] = "off"
            try:
                load(town)
            finally:
                os.environ["CAMFLEET_CACHE_DIR"] = str(work / "cache")

        def warm_new_process() -> None:
            forget_memory()
            load(town)

        cold_s = timed(cold, 1)
        warm_s = timed(warm_new_process)
        reload_s = timed(lambda: load(town))
        site = files[len(files) // 2]

        def one_changed() -> None:
            site.write_text(site.read_text(encoding="utf-8") + "\n", encoding="utf-8")
            load(town)

        changed_s = timed(one_changed)
        fleet = load(town).fleet
        hosts_s = timed(lambda: hosts_of(fleet))

        rows = [
            ("yaml.safe_load (CSafeLoader), GC on", safe_gc),
            ("yaml.safe_load (CSafeLoader), GC off", safe),
            ("camfleet cold: parse + validate + checks", cold_s),
            ("camfleet warm (new process, disk cache)", warm_s),
            ("camfleet warm (reload, nothing changed)", reload_s),
            ("camfleet reload, 1 file changed", changed_s),
            ("inventory plugin hosts/vars on top", hosts_s),
        ]
        for name, secs in rows:
            print(f"  {name:44s} {secs:7.3f} s   {secs / safe:5.2f}x plain safe_load")
        print(json.dumps({name: round(secs, 4) for name, secs in rows}))
        if args.ansible:
            bench_ansible(args.ansible, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
