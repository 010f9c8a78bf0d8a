"""Simulated Hikvision cameras and NVRs speaking ISAPI over HTTP with digest auth.

Why this exists: drivers, probes and playbooks are tested against these apps, so they answer
the way real devices do (device-apis.md §1, §6, §7): XML with a namespace (cameras
``hikvision.com/ver20``, NVRs ``isapi.org/ver20``), a ``ResponseStatus`` on every write
(1 OK, 7 Reboot Required, or the error), 403 + ``notSupport`` for resources the model lacks,
401 + ``notActivated`` until activation, a digest lock-out after bad logins, and the
faults in :mod:`camfleet.sim.faults`.

Where things are: ``xml`` (the simulator's own XML reading and writing, ``IsapiError``),
``dispatch`` (routes, auth, ResponseStatus), ``activation`` (the RSA/AES challenge), ``system``,
``accounts`` and ``maintenance`` (what every device has), ``device`` (them put together),
``camera`` and ``nvr`` (each kind's own resources), ``app`` (the aiohttp applications).

Choices where the reference is unsure, tagged [?] there and here:

- Lock-out: cameras lock a client address after 5 bad logins, NVRs after 7, for 30 minutes
  (``/ISAPI/Security/illegalLoginLock``). Bad-login and locked replies are 401 with a digest
  challenge and a ``ResponseStatus`` carrying ``lockStatus``, ``retryTimes``, ``resLockTime``.
- Activation: the real challenge flow (RSA + AES-128-ECB, §1.4) is implemented; while no
  challenge is outstanding a plain ``<ActivateInfo><password>`` is also accepted.
- Error HTTP codes: 4 → 403, 5 and 6 → 400, 3 → 500, 2 → 503.
- ``GET /ISAPI/ContentMgmt/record/status`` (per-track recording state) is a simulator resource.
- Firmware: ``PUT /ISAPI/System/updateFirmware`` blocks while flashing (poll
  ``/ISAPI/System/upgradeStatus`` meanwhile), then answers 7; the new build runs after
  ``PUT /ISAPI/System/reboot``. Another model's file: 6 ``badDevType`` ("upgrade packet mismatch").

Reproduce by hand (after ``camfleet sim`` put a camera on 127.77.0.10)::

    curl --digest -u admin:<password> http://127.77.0.10/ISAPI/System/deviceInfo
    curl --digest -u admin:<password> -X PUT -d '<SSH><enabled>false</enabled></SSH>' \\
        http://127.77.0.10/ISAPI/System/Network/ssh
"""

from camfleet.sim.hikvision.app import DEVICE, camera_app, nvr_app
from camfleet.sim.httpserve import Timings, serve

__all__ = ["DEVICE", "Timings", "camera_app", "nvr_app", "serve"]
