"""``device``: who the device says it is, whether its firmware is known-bad, its clock, risky services.

Firmware is judged against the inventory's catalogue (``firmware.yml``) as the firmware job judges it
(:func:`camfleet.inventory.catalogue.vulnerability`): a build listed under ``known_bad`` or inside a
``vulnerable`` range is vulnerable, the ``approved`` build is current. Clock skew is the device's idea
of now minus the exporter's (the station runs NTP): footage handed to the police must carry
the right time. P2P cloud and UPnP open a camera to the internet; the fleet policy wants them
off (device-apis.md §6.4, §6.5).

Sample output (``curl '127.0.0.1:9830/probe?target=cam-01-t01&module=device'``)::

    camfleet_device_info{firmware="V5.7.15 build 230519",model="DS-2CD1023G2-LIU",vendor="hikvision"} 1.0
    camfleet_device_firmware_vulnerable 0.0
    camfleet_device_firmware_approved 1.0
    camfleet_device_clock_skew_seconds -0.4
    camfleet_device_service_enabled{service="p2p"} 0.0
    camfleet_device_service_enabled{service="upnp"} 0.0
"""

from __future__ import annotations

import dataclasses

from camfleet.drivers import open_driver
from camfleet.drivers.base import ConfigurableCamera
from camfleet.drivers.errors import DriverError
from camfleet.exporter.probers.base import Metrics, Outcome, ProbeRequest, driver_failure, driver_timeout, run_blocking
from camfleet.inventory.catalogue import vulnerability


async def probe(req: ProbeRequest, out: Metrics) -> Outcome:
    driver = open_driver(req.fleet, req.target.id, req.username, req.password, timeout=driver_timeout(req))
    try:
        facts = await run_blocking(req, driver.facts)
        vendor = facts.vendor or ""
        model = facts.model or ""
        firmware = facts.firmware or ""
        out.gauge(
            "camfleet_device_info",
            "Identity as the device reports it.",
            1,
            firmware=firmware,
            model=model,
            vendor=vendor,
        )
        catalogue = req.fleet.firmware_for(vendor, model)
        if catalogue is not None:
            bad = vulnerability(catalogue, firmware) is not None
            out.gauge(
                "camfleet_device_firmware_vulnerable",
                "1 if the catalogue lists the build as known-bad or it falls in a vulnerable range (or cannot be read).",
                bad,
            )
            out.gauge(
                "camfleet_device_firmware_approved",
                "1 if the build is the catalogue's approved one.",
                catalogue.approved.build == firmware,
            )
        clock = await run_blocking(req, driver.time)
        out.gauge("camfleet_device_clock_skew_seconds", "Device clock minus the exporter's clock.", clock.skew_s)
        if req.module.services and isinstance(driver, ConfigurableCamera):
            config = await run_blocking(req, driver.read_config)
            for name, on in dataclasses.asdict(config.services).items():
                out.gauge(
                    "camfleet_device_service_enabled", "1 if the network service is on (policy: off).", on, service=name
                )
    except DriverError as err:
        return driver_failure(err)
    finally:
        driver.close()
    return Outcome.ok()
