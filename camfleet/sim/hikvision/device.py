"""What every simulated Hikvision device answers, cameras and NVRs alike: activation, identity,
time, network, users and maintenance, put together from their modules into :class:`IsapiDevice`.

Why a class of parts: each concern keeps its own routes and handlers in a module with its name
(:mod:`~camfleet.sim.hikvision.activation`, ``system``, ``accounts``, ``maintenance``), and the
request plumbing they share lives in :mod:`~camfleet.sim.hikvision.dispatch`. The route order
here is the order a device's table is searched in.

Reproduce by hand (a camera of a running ``camfleet sim`` on 127.77.0.10)::

    curl --digest -u admin:<password> http://127.77.0.10/ISAPI/System/deviceInfo
    curl --digest -u admin:<password> http://127.77.0.10/ISAPI/Security/illegalLoginLock
"""

from __future__ import annotations

from camfleet.sim.hikvision.accounts import ACCOUNT_ROUTES, Accounts
from camfleet.sim.hikvision.activation import ACTIVATION_ROUTES, Activation
from camfleet.sim.hikvision.maintenance import MAINTENANCE_ROUTES, Maintenance
from camfleet.sim.hikvision.system import SYSTEM_ROUTES, System


class IsapiDevice(Activation, System, Accounts, Maintenance):
    """What cameras and NVRs share: auth, activation, time, users, maintenance, faults."""

    ROUTES = ACTIVATION_ROUTES + SYSTEM_ROUTES + ACCOUNT_ROUTES + MAINTENANCE_ROUTES
