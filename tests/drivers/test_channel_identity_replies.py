"""Which camera a recorder channel really pulls, read from replies shaped as real recorders give them
(tests/drivers/replies/*/README.md, docs/reference/devices.md §9), served by a bare aiohttp app on a
127.77.x.y address (never the simulator): Hikvision ``InputProxy/channels`` with the camera's
``model``/``serialNumber`` in ``sourceInputPortDescriptor``; Dahua's ``RemoteDevice`` table.

    .venv/bin/pytest tests/drivers/test_channel_identity_replies.py -q
"""

from __future__ import annotations

from driver_sim import served
from test_real_replies import Device, dahua, hik, replay_app

from camfleet.drivers.base import ChannelIdentity
from camfleet.drivers.dahua import DahuaNvr
from camfleet.drivers.hikvision import HikvisionNvr


def test_a_hikvision_recorder_names_the_camera_it_connected_to_and_says_nothing_of_the_others() -> None:
    rec = Device({"GET /ISAPI/ContentMgmt/InputProxy/channels": hik("inputproxy-channels-identity.xml")})
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        seen = d.channel_identities()
    assert seen == {
        1: ChannelIdentity(1, "DS-2CD1023G2-LIU20230423AAWR593164972", None, "DS-2CD1023G2-LIU", "10.30.1.11")
    }


def test_a_dahua_recorder_names_each_slots_camera_from_its_remote_device_table() -> None:
    rec = Device(
        {"GET /cgi-bin/configManager.cgi?action=getConfig&name=RemoteDevice": dahua("remotedevice-nvr4216.txt")}
    )
    with served(replay_app, rec) as dev, dev.driver(DahuaNvr, "x") as d:
        seen = d.channel_identities()
    assert seen == {
        1: ChannelIdentity(1, "7K0A76953547PAZ", "3c:ef:8c:1b:a6:af", "IPC-HDW1025C", "10.30.1.14"),
        2: ChannelIdentity(2, "DS-2CD1143G0-I20211208AAWRJ21084244", None, "DS-2CD1143G0-I", "10.30.1.15"),
    }
