"""The aiohttp applications of the simulated Hikvision devices: :func:`camera_app` and
:func:`nvr_app` wrap a device state in an ISAPI server that answers every path.

Why here: the town and the driver tests build their devices through these two functions only,
and the digest realm is chosen here the way real firmware does it: ``IP Camera(<last five
digits of the serial>)`` for cameras, ``NVR(...)`` for recorders [?].

Reproduce by hand (serves one camera on 127.0.0.9:8080 until Ctrl-C)::

    .venv/bin/python -c "import asyncio, time; from aiohttp import web; \\
        from camfleet.sim.devices import CameraState; from camfleet.sim.faults import Faults; \\
        from camfleet.sim.hikvision import camera_app; \\
        s = CameraState.configured('hikvision', 'DS-2CD1023G2-LIU', 'SN00012345', 'c0:56:e3:00:00:01', \\
        'V5.7.15 build 230519', admin_password='Passw0rd-1', name='cam'); \\
        web.run_app(camera_app(s, Faults(), clock=time.time, on_change=lambda: None), host='127.0.0.9', port=8080)"
"""

from __future__ import annotations

import re
from collections.abc import Callable

from aiohttp import web

from camfleet.sim import onvif
from camfleet.sim.devices import CameraState, NvrState
from camfleet.sim.faults import Faults
from camfleet.sim.footage import Footage
from camfleet.sim.hikvision.camera import IsapiCamera
from camfleet.sim.hikvision.device import IsapiDevice
from camfleet.sim.hikvision.nvr import IsapiNvr
from camfleet.sim.httpdevice import Clock, device_app
from camfleet.sim.httpserve import Timings

DEVICE = web.AppKey("isapi_device", IsapiDevice)


def realm(kind: str, serial: str) -> str:
    digits = re.sub(r"\D", "", serial)[-5:] or "00000"
    return f"{kind}({digits})"


def camera_app(
    state: CameraState,
    faults: Faults,
    *,
    clock: Clock,
    on_change: Callable[[], None],
    timings: Timings | None = None,
    rtsp_port: Callable[[], int] | None = None,
) -> web.Application:
    """An ISAPI camera over ``state``, ONVIF too (``/onvif/device_service``, ``/onvif/Media``). ``clock``
    returns simulator UNIX time; ``on_change`` runs after each change; ``rtsp_port`` says where its
    RTSP server listens (the ONVIF stream URIs name it; 554 by default)."""
    device = IsapiCamera(
        state,
        faults,
        clock=clock,
        on_change=on_change,
        timings=timings or Timings(),
        realm=realm("IP Camera", state.serial),
    )
    device.speak_onvif(state, onvif.HIKVISION, rtsp_port)
    return device_app(device, DEVICE, max_field_size=16384)


def nvr_app(
    state: NvrState,
    faults: Faults,
    *,
    clock: Clock,
    on_change: Callable[[], None],
    timings: Timings | None = None,
    footage: Footage | None = None,
    rtsp_port: Callable[[], int] | None = None,
    source_of: Callable[[int], CameraState | None] | None = None,
) -> web.Application:
    """An ISAPI NVR over ``state`` (realm ``NVR(<digits>)`` [?]); ``footage`` says what its files show
    (none: searches answer, downloads are refused); ``rtsp_port`` where its RTSP playback answers
    (the search's playback URIs name it unless it is 554); ``source_of`` the camera a channel is
    connected to now (its model and serial in the channel's ``sourceInputPortDescriptor``)."""
    device = IsapiNvr(
        state, faults, clock=clock, on_change=on_change, timings=timings or Timings(), realm=realm("NVR", state.serial)
    )
    device.footage = footage
    device.rtsp_port = rtsp_port
    device.source_of = source_of
    return device_app(device, DEVICE, max_field_size=16384)
