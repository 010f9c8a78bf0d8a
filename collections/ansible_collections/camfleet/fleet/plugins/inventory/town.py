# Copyright: camfleet contributors
# Apache License 2.0
"""Ansible inventory plugin: a camfleet town folder as hosts, groups and hostvars."""

from __future__ import annotations

DOCUMENTATION = r"""
name: town
short_description: A camfleet town inventory folder as Ansible hosts and groups
description:
  - Reads a town folder of camfleet inventory YAML (cameras, recorders, link routers) through
    camfleet's own loader, so Ansible sees exactly what C(camfleet validate) accepts.
  - Every camera, recorder and link router becomes a host. Groups by role (C(cameras),
    C(recorders), C(link_routers)), camera kind (C(community_cameras), C(town_cameras)), site
    (C(site_kp_01)), vendor (C(vendor_hikvision)), recorder (C(recorder_nvr_01)) and status
    (C(status_commissioned)).
  - Hostvars carry what drivers need (driver, address, ports, recorder channel, link) and never
    household names or phone numbers, which live only in the vault.
  - Hosts run modules on the control node (C(ansible_connection=local)) with the controller's
    Python, the usual way for API-driven devices.
  - When the environment variable C(CAMFLEET_OVERLAY) names an address overlay written by C(camfleet sim up),
    C(ansible_host) and the ports come from it (the simulated town on loopback), and a device the overlay
    does not know gets no C(ansible_host). It is the one switch camfleet's modules, exporter and CLI read too,
    so it is not an option of this file.
  - The configuration file name must end with C(.camfleet.yml) or C(.camfleet.yaml).
  - With O(towns), several towns (a district, a province) in one inventory source, as AWX reads it. Each town's
    hosts also get C(camfleet_town) (its id), C(camfleet_town_dir) (its folder) and the group C(in_<id>); a device
    id found in two towns is refused, naming both, since Ansible host names are one namespace.
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: Token that marks this file as a camfleet town source.
    required: true
    choices: ['camfleet.fleet.town']
  town:
    description:
      - Path of the town folder, relative to this configuration file.
    type: str
    default: .
  towns:
    description:
      - Paths of several town folders, relative to this configuration file; when set, O(town) is not read.
    type: list
    elements: str
    default: []
  include_retired:
    description: Whether retired cameras become hosts.
    type: bool
    default: false
"""

EXAMPLES = r"""
# inventory/ngoc-lac/town.camfleet.yml
plugin: camfleet.fleet.town
keyed_groups:
  - key: camfleet_street | regex_replace('[^A-Za-z0-9]+', '_')
    prefix: street
compose:
  camfleet_label: camfleet_site ~ '/' ~ inventory_hostname
groups:
  awaiting_commissioning: camfleet_status == 'installed'

# province.camfleet.yml: every town of the district in one source (AWX: one inventory, a group per town)
plugin: camfleet.fleet.town
towns: [ngoc-lac, lam-son]
"""

import contextlib
import os
import sys
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.template import trust_as_template

try:
    from camfleet.inventory import InventoryError, load
    from camfleet.inventory.hostvars import fleet_hosts
    from camfleet.jobs import preload

    HAS_CAMFLEET = True
except ImportError:  # pragma: no cover - shown to the user by verify/parse
    HAS_CAMFLEET = False


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "camfleet.fleet.town"

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith((".camfleet.yml", ".camfleet.yaml"))

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        if not HAS_CAMFLEET:
            raise AnsibleParserError(
                "camfleet is not importable by this Ansible's Python; run ansible from the project venv (.venv/bin/ansible-*)"
            )
        self._read_config_data(path)
        here = os.path.dirname(os.path.abspath(path))
        towns = self.get_option("towns")
        if towns:
            folders = [os.path.normpath(os.path.join(here, os.path.expanduser(t))) for t in towns]
            hosts = self._many(folders, path, cache)
        else:
            town = os.path.normpath(os.path.join(here, os.path.expanduser(self.get_option("town"))))
            hosts = self._hosts(town, path, cache)
        self._populate(hosts)
        if os.path.basename(sys.argv[0]) == "ansible-playbook":
            # Workers are forks of this process: import the jobs and drivers once here, not once per host-task.
            with contextlib.suppress(ImportError):  # only a speed-up: a module reports a missing driver itself
                preload()

    def _hosts(self, town: str, path: str, cache: bool) -> list[dict[str, Any]]:
        """Hosts from the cache when allowed and fresh, else from the loader."""
        key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        if use_cache and key in self._cache:
            return self._cache[key]  # type: ignore[no-any-return]
        try:
            hosts = fleet_hosts(town, include_retired=self.get_option("include_retired"), reuse=True)
        except InventoryError as exc:
            raise AnsibleParserError(f"camfleet inventory {town} is invalid:\n{exc.args[0]}") from None
        except (OSError, ValueError) as exc:
            raise AnsibleParserError(f"camfleet inventory {town}: {exc}") from None
        if self.get_option("cache"):
            self._cache[key] = hosts
        return hosts

    def _many(self, folders: list[str], path: str, cache: bool) -> list[dict[str, Any]]:
        """Every town's hosts, each tagged with its town; a host name in two towns is refused."""
        seen: dict[str, str] = {}
        out: list[dict[str, Any]] = []
        for folder in folders:
            hosts = self._hosts(folder, f"{path}:{folder}", cache)
            town_id = load(folder, reuse=True).fleet.town.id  # already loaded (reuse) by _hosts
            for host in hosts:
                other = seen.setdefault(host["name"], folder)
                if other != folder:
                    raise AnsibleParserError(
                        f"{path}: thiết bị {host['name']} có ở cả {other} và {folder} / device {host['name']} is in "
                        f"both {other} and {folder}: Ansible host names must be unique across towns"
                    )
                tagged = {**host["vars"], "camfleet_town": town_id, "camfleet_town_dir": folder}
                out.append({**host, "groups": [*host["groups"], f"in_{group_safe(town_id)}"], "vars": tagged})
        return out

    def _populate(self, hosts: list[dict[str, Any]]) -> None:
        strict = self.get_option("strict")
        for host in hosts:
            name = host["name"]
            self.inventory.add_host(name)
            for group in host["groups"]:
                self.inventory.add_group(group)
                self.inventory.add_child(group, name)
            for var, value in host["vars"].items():
                if var == "ansible_python_interpreter":
                    value = trust_as_template(value)  # a template Ansible must expand
                self.inventory.set_variable(name, var, value)
            hostvars = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)


def group_safe(value: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in value)
