"""Simulated Dahua cameras speaking the HTTP CGI API with digest auth.

Why this exists: Dahua drivers are tested against it, so it answers like the devices in
device-apis.md §2 and §6 (see :mod:`~camfleet.sim.dahua.camera` for the facts and the [?]
choices). Where things are: ``cgi`` (the words of a reply: ``key=value`` lines, ``Error``),
``config`` (the ``configManager`` table over the camera state), ``wizard`` (the initialisation
of a factory-fresh camera over ``/OutsideCmd``, with its own RPAC-256 envelope opening),
``camera`` (login, privilege and each CGI), ``app`` (the aiohttp application). Nothing here
imports a driver: the simulator is what the drivers are checked against.

Reproduce by hand::

    curl --digest -u admin:<password> 'http://127.77.0.20/cgi-bin/magicBox.cgi?action=getSystemInfo'
    curl --digest -u admin:<password> \\
        'http://127.77.0.20/cgi-bin/configManager.cgi?action=setConfig&NTP.Enable=true&NTP.Address=10.0.0.1'
"""

from camfleet.sim.dahua.app import DEVICE, camera_app
from camfleet.sim.httpserve import Timings, serve

__all__ = ["DEVICE", "Timings", "camera_app", "serve"]
