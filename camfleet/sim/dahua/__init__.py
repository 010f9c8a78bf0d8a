"""Simulated Dahua cameras and recorders speaking the HTTP CGI API with digest auth.

Why this exists: Dahua drivers are tested against it, so it answers like the devices in
device-apis.md §2 and §6 and docs/reference/footage.md §4 (see :mod:`~camfleet.sim.dahua.camera`
and :mod:`~camfleet.sim.dahua.nvr` for the facts and the [?] choices). Where things are: ``cgi``
(the words of a reply: ``key=value`` lines, ``Error``), ``config`` (the ``configManager`` tables
over the device state), ``device`` (login, privilege and the CGIs every device has), ``wizard``
(the initialisation of a factory-fresh camera over ``/OutsideCmd``, with its own RPAC-256
envelope opening), ``camera`` (a camera's own CGIs), ``nvr`` (a recorder: disks, the footage
search, ``RPC_Loadfile``), ``dhav`` (the ``.dav`` container its files are written in), ``app``
(the aiohttp applications). Nothing here imports a driver: the simulator is what the drivers are
checked against.

Reproduce by hand::

    curl --digest -u admin:<password> 'http://127.77.0.20/cgi-bin/magicBox.cgi?action=getSystemInfo'
    curl --digest -u admin:<password> \\
        'http://127.77.0.20/cgi-bin/configManager.cgi?action=setConfig&NTP.Enable=true&NTP.Address=10.0.0.1'
"""

from camfleet.sim.dahua.app import DEVICE, camera_app, nvr_app
from camfleet.sim.httpserve import Timings, serve

__all__ = ["DEVICE", "Timings", "camera_app", "nvr_app", "serve"]
