# Copyright: camfleet contributors
# Apache License 2.0
"""Run a camfleet module inside the Ansible worker instead of a new Python process.

Why: every device here is reached over HTTP or SSH *from the controller* (``ansible_connection:
local``), so a module's subprocess buys no isolation, only cost. A module launch is ≈0.3 CPU-s
of the controller (AnsiballZ, a new interpreter, ``ansible.module_utils.basic``, then camfleet,
pydantic, httpx and the town's inventory all over again), and on two cores that launch — not the
device — is what limits a 70-camera audit. The worker that runs an action plugin is a fork of
``ansible-playbook``, which already holds camfleet and the validated town (the inventory plugin
loaded it), so the same module code run here costs only its real work.

The contract is the module's own: each module exposes ``SPEC`` (the keyword arguments of its
``AnsibleModule``) and ``run_module(module)``; its ``main()`` is ``run_module(AnsibleModule(**SPEC))``.
:class:`InProcessModule` gives ``run_module`` the part of ``AnsibleModule`` our modules use —
``params`` validated by the same ``ModuleArgumentSpecValidator``, ``check_mode``, ``_diff``,
``_name``, ``exit_json``, ``fail_json``, ``warn`` — and the results cross a JSON round trip with
``no_log`` values masked, exactly as a module's would.

The normal module launch is still used when the connection is not local, for ``async``, ``become``
and ``environment:`` tasks, and everywhere when ``CAMFLEET_INPROCESS=0`` (to debug a module as a process, or
to compare both paths)::

    CAMFLEET_INPROCESS=0 .venv/bin/ansible-playbook playbooks/configure.yml --check
"""

from __future__ import annotations

import ctypes
import importlib
import json
import logging
import multiprocessing
import os
import signal
import sys
import traceback
from typing import Any, NoReturn

from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator
from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

ENV = "CAMFLEET_INPROCESS"
COLLECTION = "camfleet.fleet"
#: Loggers of the libraries the modules use: a module's stderr is thrown away, a worker's is the
#: terminal, so their stray warnings must not reach it (failures are in the result).
QUIET_LOGGERS = ("camfleet", "netmiko", "paramiko", "httpx", "httpcore", "asyncio")
#: prctl(2) option: the signal the kernel sends this process when its parent dies.
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Have the kernel SIGKILL this worker when ``ansible-playbook`` dies (Linux; a no-op elsewhere).

    Why: a worker running a module in-process may be in a long device call (a hung camera, a firmware
    upload). When ``ansible-playbook`` is killed with SIGKILL nothing tells its forks, and each would go
    on talking to a device for nobody, holding its connection, until its own timeout, or forever. The
    parent may have died before this call: then the worker ends here, as the signal would have done.
    """
    parent = multiprocessing.parent_process()
    if not sys.platform.startswith("linux") or parent is None:  # not a forked worker (a test calling us)
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no libc prctl: nothing better to do than run as before
        return
    if os.getppid() != parent.pid:
        os.kill(os.getpid(), signal.SIGKILL)


class ModuleExit(Exception):
    """``exit_json``/``fail_json`` called: carries the result, as ``sys.exit`` does for a module."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result.get("msg", ""))
        self.result = result


class InProcessModule:
    """The slice of ``AnsibleModule`` that camfleet modules use, for a run inside the worker."""

    def __init__(self, name: str, params: dict[str, Any], *, check_mode: bool, diff: bool) -> None:
        self._name = name
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.no_log_values: set[str] = set()
        self._warnings: list[str] = []

    def warn(self, warning: str) -> None:
        self._warnings.append(str(warning))

    def exit_json(self, **kwargs: Any) -> NoReturn:
        raise ModuleExit(self._formatted(kwargs))

    def fail_json(self, msg: str, **kwargs: Any) -> NoReturn:
        kwargs.pop("exception", None)
        raise ModuleExit(self._formatted({**kwargs, "failed": True, "msg": str(msg)}))

    def _formatted(self, result: dict[str, Any]) -> dict[str, Any]:
        result.setdefault("invocation", {"module_args": self.params})
        if self._warnings:
            result["warnings"] = list(self._warnings)
        masked: dict[str, Any] = remove_values(result, self.no_log_values)
        return masked


def as_module_sees(value: Any, direction: Direction) -> Any:
    """``value`` after the JSON trip a module's arguments or results take (plain, untagged types)."""
    text = json.dumps(value, cls=get_module_encoder("legacy", direction))
    return json.loads(text, cls=get_module_decoder("legacy", direction))


def run_in_process(name: str, args: dict[str, Any], *, check_mode: bool, diff: bool) -> dict[str, Any]:
    """Validate ``args`` against module ``name``'s spec and run it here; the module's result."""
    die_with_parent()
    code = importlib.import_module(f"ansible_collections.camfleet.fleet.plugins.modules.{name}")
    spec = dict(code.SPEC)
    supports_check_mode = spec.pop("supports_check_mode", False)
    fqcn = f"{COLLECTION}.{name}"
    if check_mode and not supports_check_mode:
        return {"skipped": True, "msg": f"{fqcn} does not support check mode"}
    params = as_module_sees(args, Direction.CONTROLLER_TO_MODULE)
    validator = ModuleArgumentSpecValidator(
        spec.pop("argument_spec"),
        spec.pop("mutually_exclusive", None),
        spec.pop("required_together", None),
        spec.pop("required_one_of", None),
        spec.pop("required_if", None),
        spec.pop("required_by", None),
    )
    module = InProcessModule(fqcn, params, check_mode=check_mode, diff=diff)
    validation = validator.validate(params)
    params.update(validation.validated_parameters)
    module.no_log_values.update(validation._no_log_values)
    for logger in QUIET_LOGGERS:
        logging.getLogger(logger).addHandler(logging.NullHandler())
    try:
        error = validation.errors.errors[0] if validation.errors.errors else None
        if error is not None:
            msg = validation.errors.msg
            if isinstance(error, UnsupportedError):
                msg = f"Unsupported parameters for ({fqcn}) module: {msg}"
            module.fail_json(msg=msg)
        code.run_module(module)
        module.fail_json(msg=f"{fqcn} returned without a result (a bug in the module)")
    except ModuleExit as done:
        result = done.result
    except Exception as err:  # a bug in a module: a failed task, as MODULE FAILURE is
        result = remove_values(
            {
                "failed": True,
                "msg": f"{fqcn} failed unexpectedly (a bug; please report it): {type(err).__name__}: {err}",
                "exception": "".join(traceback.format_exception(err)),
            },
            module.no_log_values,
        )
    seen: dict[str, Any] = as_module_sees(result, Direction.MODULE_TO_CONTROLLER)
    return seen


def in_process_allowed(action: ActionBase) -> bool:
    """Whether this task may skip the module launch: a local connection, no async, become or environment."""
    if os.environ.get(ENV, "1") in ("0", "false", "no"):
        return False
    task = action._task
    local = action._connection.transport == "local"
    # environment: a launched module runs with it; camfleet reads os.environ (overlay, vault), so launch.
    environment = [e for e in (task.environment or []) if e]  # Ansible keeps an empty entry per level
    return bool(local and not task.async_val and not task.become and not environment)


class InProcessAction(ActionBase):
    """Action plugin of a camfleet module: runs the module in the worker when it may (see above)."""

    MODULE = ""
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        if not in_process_allowed(self):
            result.update(
                self._execute_module(
                    module_name=f"{COLLECTION}.{self.MODULE}", task_vars=task_vars, wrap_async=self._task.async_val
                )
            )
            return result
        result.update(
            run_in_process(
                self.MODULE, dict(self._task.args), check_mode=bool(self._task.check_mode), diff=bool(self._task.diff)
            )
        )
        return result
