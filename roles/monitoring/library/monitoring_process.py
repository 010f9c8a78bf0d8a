#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Keep one long-running program going as a background process with a pid file, for hosts without systemd.

The demo and the tests run the camfleet exporter and Prometheus this way (roles/monitoring with
``monitoring_service_manager: process``); a station uses systemd units instead. By hand:

    .venv/bin/ansible-playbook playbooks/monitoring.yml -e monitoring_service_manager=process \\
        -e monitoring_etc_dir=$PWD/.state/monitoring/etc -e monitoring_process_dir=$PWD/.state/monitoring ...
    cat .state/monitoring/prometheus.json     # what runs: pid, argv, env, the files' sha256
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: monitoring_process
short_description: Run a program in the background with a pid file; restart or reload it when its files change
description:
  - Starts O(argv) detached (own session, output appended to C(<state_dir>/<name>.log)) and records its pid in
    C(<state_dir>/<name>.pid) and what it was started with in C(<state_dir>/<name>.json) (argv, environment,
    working folder and the sha256 of O(restart_files) and O(reload_files)).
  - A later run with the same argv, environment and file contents changes nothing. A different argv or
    environment, or a changed O(restart_files) file, restarts it (SIGTERM, then SIGKILL after O(stop_timeout));
    a changed O(reload_files) file sends O(reload_signal) instead (Prometheus re-reads its configuration on
    SIGHUP).
  - With O(ready_url) it waits until that URL answers 2xx, and fails with the last line of the log when the
    program exits first.
  - The pid is trusted only while C(/proc/<pid>) shows the same start time as recorded, so a reused pid is
    never signalled.
  - For hosts without systemd (the demo on a developer's machine, CI); a station runs systemd units.
version_added: 0.1.0
author: camfleet contributors
options:
  name:
    description: Short name, used for the pid, state and log files.
    type: str
    required: true
  state:
    description: C(started) keeps it running with this argv and files; C(stopped) stops it.
    type: str
    choices: [started, stopped]
    default: started
  state_dir:
    description: Folder for the pid, state and log files (created).
    type: path
    required: true
  argv:
    description: Program and arguments (no shell). Required with O(state=started).
    type: list
    elements: str
  env:
    description: Environment variables; the program gets these plus C(PATH) and C(LANG) only.
    type: dict
    default: {}
  chdir:
    description: Working folder (default O(state_dir)).
    type: path
  restart_files:
    description: Files whose content, when changed, needs a restart.
    type: list
    elements: path
    default: []
  reload_files:
    description: Files whose content, when changed, needs only O(reload_signal) (a restart when it is unset).
    type: list
    elements: path
    default: []
  reload_signal:
    description: Signal name that makes the program re-read O(reload_files), e.g. C(SIGHUP).
    type: str
  ready_url:
    description: URL that answers 2xx once the program is ready; waited for after a start or restart.
    type: str
  ready_ca_file:
    description:
      - An https O(ready_url)'s certificate is checked with this CA (PEM) instead of the system's.
      - A C(401) answer then counts as ready too (the program answers and asks for a login, which the caller checks).
    type: path
  ready_timeout:
    description: Seconds to wait for O(ready_url).
    type: float
    default: 30
  stop_timeout:
    description: Seconds between SIGTERM and SIGKILL.
    type: float
    default: 15
"""

EXAMPLES = r"""
- name: Run Prometheus in the background
  monitoring_process:
    name: prometheus
    state_dir: /srv/demo/monitoring
    argv: [/usr/bin/prometheus, --config.file=/srv/demo/etc/prometheus/prometheus.yml,
           --web.listen-address=127.0.0.1:9090, --storage.tsdb.path=/srv/demo/monitoring/prometheus-data]
    reload_files: [/srv/demo/etc/prometheus/prometheus.yml]
    reload_signal: SIGHUP
    ready_url: http://127.0.0.1:9090/-/ready

- name: Stop it
  monitoring_process:
    name: prometheus
    state_dir: /srv/demo/monitoring
    state: stopped
"""

RETURN = r"""
action:
  description: What was done, or would be done in check mode.
  returned: always
  type: str
  sample: reloaded
  choices: [none, started, restarted, reloaded, stopped]
pid:
  description: The running program's pid (none once stopped, or in check mode before a start).
  returned: always
  type: int
  sample: 41234
log:
  description: The program's log file.
  returned: always
  type: str
  sample: /srv/demo/monitoring/prometheus.log
"""

CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def start_time(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks since boot, or None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the command name may hold spaces and brackets
    if not fields or fields[0] in ("Z", "X"):
        return None
    return fields[19]  # field 22 of proc(5); fields[0] is field 3


def digests(paths: list[str]) -> dict[str, str]:
    out = {}
    for path in paths:
        try:
            out[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            out[path] = "missing"
    return out


class Process:
    def __init__(self, module: AnsibleModule) -> None:
        p = module.params
        self.module = module
        self.name: str = p["name"]
        self.dir = Path(p["state_dir"])
        self.pid_file = self.dir / f"{self.name}.pid"
        self.state_file = self.dir / f"{self.name}.json"
        self.log = self.dir / f"{self.name}.log"

    def recorded(self) -> dict[str, Any] | None:
        """What the running program was started with, if it still runs; None otherwise."""
        try:
            state: dict[str, Any] = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if start_time(int(state.get("pid", 0))) != state.get("starttime"):
            return None
        return state

    def stray_pid(self) -> int | None:
        """A pid file without a state file (an older script's): its pid, if that program still runs.

        Never trusted when a state file exists (its start time already said the program is gone),
        and only when the process's command line names this program: a pid reused by something
        else after a crash or a reboot must never be signalled.
        """
        if self.state_file.exists():
            return None
        try:
            pid = int(self.pid_file.read_text(encoding="ascii").strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        ours = any(self.name.encode() in os.path.basename(arg) or self.name.encode() == arg for arg in cmdline)
        return pid if ours and start_time(pid) is not None else None

    def stop(self, pid: int, timeout: float) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; fails in one line if the program still will not go."""
        try:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            killed = False
            while start_time(pid) is not None:
                if time.monotonic() > deadline:
                    if killed:
                        self.module.fail_json(msg=f"{self.name} (pid {pid}) did not stop, even after SIGKILL")
                    os.kill(pid, signal.SIGKILL)
                    killed, deadline = True, time.monotonic() + 5
                time.sleep(0.1)
        except ProcessLookupError:
            pass  # it exited on its own meanwhile
        except PermissionError:
            self.module.fail_json(msg=f"{self.name} (pid {pid}) belongs to another user; stop it by hand")
        self.forget()

    def forget(self) -> None:
        for path in (self.pid_file, self.state_file):
            path.unlink(missing_ok=True)

    def start(self, wanted: dict[str, Any]) -> subprocess.Popen[bytes]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} start: {' '.join(wanted['argv'])}\n".encode())
            log.flush()
            proc = subprocess.Popen(  # argv is the role's, no shell
                wanted["argv"],
                cwd=wanted["chdir"],
                env={"PATH": CLEAN_PATH, "LANG": "C.UTF-8", **wanted["env"]},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives Ansible's module process and its terminal
                close_fds=True,
            )
        state = {"pid": proc.pid, "starttime": start_time(proc.pid), **wanted}
        self.pid_file.write_text(f"{proc.pid}\n", encoding="ascii")
        self.state_file.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        return proc

    def last_log_line(self) -> str:
        try:
            lines = [ln for ln in self.log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def wait_ready(self, proc: subprocess.Popen[bytes], url: str, timeout: float, ca_file: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]  # loopback: never via a proxy
        if ca_file:
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca_file)))
        opener = urllib.request.build_opener(*handlers)
        while True:
            code = proc.poll()
            if code is not None:
                self.forget()
                self.module.fail_json(
                    msg=f"{self.name} exited with code {code} right after it started: {self.last_log_line()} (log {self.log})"
                )
            try:
                with opener.open(url, timeout=2) as reply:
                    if 200 <= reply.status < 300:
                        return
            except urllib.error.HTTPError as exc:
                if ca_file and exc.code == 401:
                    return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                self.module.fail_json(msg=f"{self.name} does not answer {url} after {timeout:g} s (log {self.log})")
            time.sleep(0.2)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["started", "stopped"], "default": "started"},
            "state_dir": {"type": "path", "required": True},
            "argv": {"type": "list", "elements": "str"},
            "env": {"type": "dict", "default": {}},
            "chdir": {"type": "path"},
            "restart_files": {"type": "list", "elements": "path", "default": []},
            "reload_files": {"type": "list", "elements": "path", "default": []},
            "reload_signal": {"type": "str"},
            "ready_url": {"type": "str"},
            "ready_ca_file": {"type": "path"},
            "ready_timeout": {"type": "float", "default": 30},
            "stop_timeout": {"type": "float", "default": 15},
        },
        required_if=[("state", "started", ["argv"])],
        supports_check_mode=True,
    )
    p = module.params
    proc = Process(module)
    current = proc.recorded()
    stray = None if current else proc.stray_pid()
    result: dict[str, Any] = {"changed": False, "action": "none", "pid": None, "log": str(proc.log)}

    if p["state"] == "stopped":
        pid = current["pid"] if current else stray
        if pid is not None:
            result.update(changed=True, action="stopped")
            if not module.check_mode:
                proc.stop(pid, p["stop_timeout"])
        elif not module.check_mode:
            proc.forget()
        module.exit_json(**result)

    reload_signal = getattr(signal, p["reload_signal"], None) if p["reload_signal"] else None
    if p["reload_signal"] and not isinstance(reload_signal, signal.Signals):
        module.fail_json(msg=f"reload_signal: {p['reload_signal']} is not a signal name (e.g. SIGHUP)")
    env = {str(k): str(v) for k, v in p["env"].items()}
    wanted: dict[str, Any] = {
        "argv": [str(a) for a in p["argv"]],
        "env": env,
        "chdir": p["chdir"] or str(proc.dir),
        "restart_files": digests(p["restart_files"]),
        "reload_files": digests(p["reload_files"]),
    }
    if current and all(current.get(k) == wanted[k] for k in ("argv", "env", "chdir", "restart_files")):
        result["pid"] = current["pid"]
        if current.get("reload_files") == wanted["reload_files"]:
            module.exit_json(**result)
        if reload_signal is not None:
            result.update(changed=True, action="reloaded")
            if not module.check_mode:
                os.kill(current["pid"], reload_signal)
                proc.state_file.write_text(json.dumps({**current, **wanted}, indent=2) + "\n", encoding="utf-8")
            module.exit_json(**result)
        # a reload file changed and the program has no reload signal: restart it below

    before = {k: current.get(k) for k in wanted} if current else {}
    result.update(
        changed=True,
        action="restarted" if current or stray else "started",
        diff={"before": json.dumps(before, indent=2) + "\n", "after": json.dumps(wanted, indent=2) + "\n"},
    )
    if module.check_mode:
        module.exit_json(**result)
    old = current["pid"] if current else stray
    if old is not None:
        proc.stop(old, p["stop_timeout"])
    started = proc.start(wanted)
    if p["ready_url"]:
        proc.wait_ready(started, p["ready_url"], p["ready_timeout"], p["ready_ca_file"])
    result["pid"] = started.pid
    module.exit_json(**result)


if __name__ == "__main__":
    main()
