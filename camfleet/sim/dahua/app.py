"""The aiohttp applications of the simulated Dahua devices: :func:`camera_app` wraps a camera state in
the CGI server (:class:`~camfleet.sim.dahua.camera.DahuaCamera`), :func:`nvr_app` a recorder state
(:class:`~camfleet.sim.dahua.nvr.DahuaNvr`); each answers every path.

Reproduce by hand (serves one camera on 127.0.0.9:8080 until Ctrl-C)::

    .venv/bin/python -c "import time; from aiohttp import web; from camfleet.sim.devices import CameraState; \\
        from camfleet.sim.faults import Faults; from camfleet.sim.dahua import camera_app; \\
        s = CameraState.configured('dahua', 'IPC-HFW1230S1-S5', '7J0A1B2PAZ3C4D5', '3c:ef:8c:00:00:02', \\
        'V2.800.0000000.16.R.210518', admin_password='Passw0rd-1', name='cam'); \\
        web.run_app(camera_app(s, Faults(), clock=time.time, on_change=lambda: None), host='127.0.0.9', port=8080)"
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from camfleet.sim import onvif
from camfleet.sim.dahua.camera import DahuaCamera
from camfleet.sim.dahua.device import DahuaCgiDevice
from camfleet.sim.dahua.nvr import DahuaNvr
from camfleet.sim.devices import CameraState, NvrState
from camfleet.sim.faults import Faults
from camfleet.sim.footage import Footage
from camfleet.sim.httpdevice import Clock, device_app
from camfleet.sim.httpserve import Timings

DEVICE = web.AppKey("dahua_device", DahuaCgiDevice)


def camera_app(
    state: CameraState,
    faults: Faults,
    *,
    clock: Clock,
    on_change: Callable[[], None],
    timings: Timings | None = None,
    rtsp_port: Callable[[], int] | None = None,
) -> web.Application:
    """A Dahua camera's CGI API over ``state``, ONVIF too (``/onvif/device_service``,
    ``/onvif/media_service``); ``clock`` returns simulator UNIX time; ``rtsp_port`` says where its RTSP
    server listens (the ONVIF stream URIs name it; 554 by default)."""
    device = DahuaCamera(
        state, faults, clock=clock, on_change=on_change, timings=timings or Timings(), rtsp_port=rtsp_port
    )
    device.speak_onvif(state, onvif.DAHUA, rtsp_port)
    return device_app(device, DEVICE)


def nvr_app(
    state: NvrState,
    faults: Faults,
    *,
    clock: Clock,
    on_change: Callable[[], None],
    timings: Timings | None = None,
    footage: Footage | None = None,
    source_of: Callable[[int], CameraState | None] | None = None,
) -> web.Application:
    """A Dahua recorder's CGI API over ``state``; ``footage`` says what its files show (none: searches
    answer, downloads are refused); ``source_of`` the camera each channel is connected to now."""
    device = DahuaNvr(
        state,
        faults,
        clock=clock,
        on_change=on_change,
        timings=timings or Timings(),
        footage=footage,
        source_of=source_of,
    )
    return device_app(device, DEVICE)
