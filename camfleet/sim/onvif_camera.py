"""A camera that speaks ONVIF and RTSP and nothing else: the simulator's stand-in for the consumer
cameras (Imou, Ezviz, TP-Link …) whose owners share a stream with the station (a community camera
with ``managed: true`` and the ``onvif`` driver).

Why its own family: camfleet administers none of these, so the simulator must not answer ISAPI or
CGI for them either — a driver that wandered off ONVIF would fail here as on the real camera. The
ONVIF service is :mod:`camfleet.sim.onvif`, laid out as the maker's firmware lays it out
(:func:`~camfleet.sim.onvif.style_for`: an Imou answers as the Dahua inside it); every other path is a 404.

Reproduce by hand (serves one Imou camera on 127.0.0.9:8080 until Ctrl-C)::

    .venv/bin/python -c "import time; from aiohttp import web; from camfleet.sim.devices import CameraState; \\
        from camfleet.sim.faults import Faults; from camfleet.sim.onvif_camera import camera_app; \\
        s = CameraState.configured('imou', 'IPC-F22FEP', '8F0A1B2PAZ3C4D5', '3c:ef:8c:00:00:09', \\
        '2.840.0000000.5.R', admin_password='Passw0rd-1', name='cam'); \\
        web.run_app(camera_app(s, Faults(), clock=time.time, on_change=lambda: None), host='127.0.0.9', port=8080)"
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from camfleet.sim.devices import CameraState
from camfleet.sim.faults import Faults
from camfleet.sim.httpdevice import Clock, HttpDevice, device_app
from camfleet.sim.httpserve import Timings
from camfleet.sim.onvif import style_for


class OnvifOnlyCamera(HttpDevice):
    """ONVIF (answered before :meth:`answer`, see :meth:`HttpDevice.handle`) and a 404 for anything else."""

    async def answer(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=404, text="Not Found")


DEVICE = web.AppKey("onvif_device", OnvifOnlyCamera)


def camera_app(
    state: CameraState,
    faults: Faults,
    *,
    clock: Clock,
    on_change: Callable[[], None],
    timings: Timings | None = None,
    rtsp_port: Callable[[], int] | None = None,
) -> web.Application:
    """An ONVIF-only camera over ``state``, laid out as ``state.vendor``'s firmware; its snapshot behind
    HTTP digest (realm ``Login to <serial>`` [?])."""
    device = OnvifOnlyCamera(
        state,
        faults,
        clock=clock,
        on_change=on_change,
        timings=timings or Timings(),
        realm=f"Login to {state.serial}",
    )
    device.speak_onvif(state, style_for(state.vendor), rtsp_port)
    return device_app(device, DEVICE)
