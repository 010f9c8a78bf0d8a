"""Simulated Hikvision cameras and NVRs (ISAPI), driven by httpx with DigestAuth, ffprobe and
the activation crypto done with the ``cryptography`` package as a real client does it.

Each test serves its device on a random 127.77.x.y address, on a fake simulator clock that the
test moves forward (lock-outs, reboots), and stops the server at the end.

    .venv/bin/pytest tests/sim/test_hikvision.py -q
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import ElementTree as SafeET
from http_sim import T0, Served, run, served

from camfleet.sim.devices import CameraState, NvrState, ProxyChannel, make_firmware
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.hikvision import Timings, camera_app, nvr_app

MODEL, SERIAL, MAC = "DS-2CD1023G2-LIU", "DS-2CD1023G2-LIU20230101AAWRJ83813", "c0:56:e3:00:00:01"
BUILD, NEW_BUILD = "V5.6.3 build 190923", "V5.7.15 build 230519"
PASSWORD = "Ngoc-Lac-2023"
TIMINGS = Timings(reboot_s=60, flash_s=90, max_real_s=0.4)
Dev = Served


@asynccontextmanager
async def device(state: CameraState | NvrState, faults: Faults | None = None) -> AsyncIterator[Dev]:
    factory = nvr_app if isinstance(state, NvrState) else camera_app
    async with served(factory, state, password=PASSWORD, timings=TIMINGS, faults=faults) as dev:
        yield dev


def camera(**kw: Any) -> CameraState:
    return CameraState.configured(
        "hikvision", MODEL, SERIAL, MAC, BUILD, admin_password=PASSWORD, name="kp01-cho", ntp_server="10.20.0.1", **kw
    )


def xml(resp: httpx.Response) -> ET.Element:
    return SafeET.fromstring(resp.content)  # type: ignore[no-any-return]


def val(el: ET.Element, path: str) -> str:
    found = el.find("/".join(f"{{*}}{p}" for p in path.split("/")))
    assert found is not None and found.text is not None, f"{path} missing in {ET.tostring(el)[:300]!r}"
    return found.text


def status_of(resp: httpx.Response) -> tuple[int, str]:
    el = xml(resp)
    assert el.tag.endswith("ResponseStatus"), resp.text
    return int(val(el, "statusCode")), val(el, "subStatusCode")


# --------------------------------------------------------------------------- digest


def test_digest_challenge_then_nonce_reuse_and_replay_refused() -> None:
    async def scenario() -> None:
        async with device(camera()) as dev:
            async with httpx.AsyncClient(base_url=dev.base) as anon:
                first = await anon.get("/ISAPI/System/deviceInfo")
            assert first.status_code == 401
            challenge = first.headers["www-authenticate"]
            assert (
                challenge.startswith("Digest ")
                and 'qop="auth"' in challenge
                and 'realm="IP Camera(83813)"' in challenge
            )
            assert "Document Error: Unauthorized" in first.text

            sent: list[str] = []

            async def remember(request: httpx.Request) -> None:
                if "authorization" in request.headers:
                    sent.append(request.headers["authorization"])

            async with dev.client(event_hooks={"request": [remember]}) as c:
                info = await c.get("/ISAPI/System/deviceInfo")
                again = await c.get("/ISAPI/System/deviceInfo")
            assert info.status_code == again.status_code == 200
            assert info.headers["content-type"].startswith("application/xml")
            root = xml(info)
            assert root.tag == "{http://www.hikvision.com/ver20/XMLSchema}DeviceInfo"
            assert (val(root, "model"), val(root, "serialNumber"), val(root, "macAddress")) == (MODEL, SERIAL, MAC)
            assert (val(root, "firmwareVersion"), val(root, "firmwareReleasedDate")) == ("V5.6.3", "build 190923")
            assert val(root, "deviceName") == "kp01-cho" and val(root, "deviceType") == "IPCamera"
            assert "nc=00000002" in sent[-1]  # the second request reused the nonce, no new 401
            async with httpx.AsyncClient(base_url=dev.base) as raw:
                replay = await raw.get("/ISAPI/System/deviceInfo", headers={"Authorization": sent[-1]})
            assert replay.status_code == 401

    run(scenario)


def test_wrong_password_locks_out_then_unlocks_after_the_lock_time() -> None:
    async def scenario() -> None:
        async with device(camera()) as dev:
            replies = []
            for i in range(5):
                async with dev.client(password=f"Wrong-pass-{i}") as c:
                    replies.append(await c.get("/ISAPI/System/deviceInfo"))
            assert all(r.status_code == 401 for r in replies)
            bodies = [xml(r) for r in replies]
            assert [val(b, "lockStatus") for b in bodies] == ["unlock"] * 4 + ["locked"]
            assert [int(val(b, "retryTimes")) for b in bodies[:4]] == [4, 3, 2, 1]
            assert val(bodies[0], "subStatusCode") == "badAuthorization"
            async with dev.client() as c:
                still = await c.get("/ISAPI/System/deviceInfo")
            assert still.status_code == 401 and val(xml(still), "lockStatus") == "locked"
            assert 1700 <= int(val(xml(still), "resLockTime")) <= 1800
            dev.clock.t += 1801
            async with dev.client() as c:
                assert (await c.get("/ISAPI/System/deviceInfo")).status_code == 200

    run(scenario)


def test_locked_fault_refuses_the_right_password() -> None:
    async def scenario() -> None:
        async with device(camera()) as dev:
            dev.faults.set(Fault.locked)
            async with dev.client() as c:
                r = await c.get("/ISAPI/System/deviceInfo")
                assert r.status_code == 401 and val(xml(r), "lockStatus") == "locked"
                dev.faults.clear(Fault.locked)
                assert (await c.get("/ISAPI/System/deviceInfo")).status_code == 200

    run(scenario)


# --------------------------------------------------------------------------- activation


def _rsa_client() -> tuple[Any, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the vendor protocol uses RSA-1024
    modulus_hex = format(key.public_key().public_numbers().n, "x")
    return key, base64.b64encode(modulus_hex.encode()).decode()


def _encrypt_password(private_key: Any, challenge_b64: str, password: str) -> str:
    secret = private_key.decrypt(bytes.fromhex(base64.b64decode(challenge_b64).decode()), padding.PKCS1v15()).decode()[
        -32:
    ]
    plain = (secret[:16] + password).encode()
    plain += b"\0" * (-len(plain) % 16)
    enc = Cipher(algorithms.AES(bytes.fromhex(secret)), modes.ECB()).encryptor()  # noqa: S305 - the vendor protocol
    return base64.b64encode((enc.update(plain) + enc.finalize()).hex().encode()).decode()


def test_factory_fresh_camera_activates_with_the_challenge_then_logs_in() -> None:
    async def scenario() -> None:
        fresh = CameraState.factory_fresh("hikvision", MODEL, SERIAL, MAC, BUILD)
        async with device(fresh) as dev, httpx.AsyncClient(base_url=dev.base) as anon:
            status = await anon.get("/SDK/activateStatus")
            assert status.status_code == 200 and val(xml(status), "Activated") == "false"
            blocked = await anon.get("/ISAPI/System/deviceInfo")
            assert blocked.status_code == 401 and status_of(blocked) == (4, "notActivated")

            key, public = _rsa_client()
            ch = await anon.post("/ISAPI/Security/challenge", content=f"<PublicKey><key>{public}</key></PublicKey>")
            assert ch.status_code == 200
            weak = _encrypt_password(key, val(xml(ch), "key"), "12345678")
            r = await anon.put(
                "/ISAPI/System/activate", content=f"<ActivateInfo><password>{weak}</password></ActivateInfo>"
            )
            assert r.status_code == 403 and status_of(r) == (4, "riskPassword")
            good = _encrypt_password(key, val(xml(ch), "key"), PASSWORD)
            r = await anon.put(
                "/ISAPI/System/activate", content=f"<ActivateInfo><password>{good}</password></ActivateInfo>"
            )
            assert r.status_code == 200 and status_of(r) == (1, "ok")
            assert val(xml(await anon.get("/ISAPI/Security/activateStatus")), "Activated") == "true"
            again = await anon.put(
                "/ISAPI/System/activate", content=f"<ActivateInfo><password>{good}</password></ActivateInfo>"
            )
            assert status_of(again) == (4, "hasActivated")
            async with dev.client() as c:
                assert (await c.get("/ISAPI/System/deviceInfo")).status_code == 200
            assert dev.state.activated and dev.changes

    run(scenario)


# --------------------------------------------------------------------------- configuration round trips


def test_streaming_channel_round_trip_and_errors() -> None:
    async def scenario() -> None:
        async with device(camera()) as dev, dev.client() as c:
            before = xml(await c.get("/ISAPI/Streaming/channels/101"))
            assert val(before, "Video/maxFrameRate") == "2500" and val(before, "Video/videoResolutionWidth") == "1920"
            body = (
                "<StreamingChannel><id>101</id><Video><videoCodecType>H.265</videoCodecType>"
                "<videoResolutionWidth>1280</videoResolutionWidth><videoResolutionHeight>720</videoResolutionHeight>"
                "<videoQualityControlType>CBR</videoQualityControlType><constantBitRate>2048</constantBitRate>"
                "<maxFrameRate>1500</maxFrameRate><GovLength>30</GovLength></Video></StreamingChannel>"
            )
            r = await c.put("/ISAPI/Streaming/channels/101", content=body)
            assert r.status_code == 200 and status_of(r) == (1, "ok")
            after = xml(await c.get("/ISAPI/Streaming/channels/101"))
            assert [
                val(after, f"Video/{k}")
                for k in (
                    "videoCodecType",
                    "videoResolutionWidth",
                    "videoResolutionHeight",
                    "videoQualityControlType",
                    "constantBitRate",
                    "maxFrameRate",
                    "GovLength",
                )
            ] == ["H.265", "1280", "720", "CBR", "2048", "1500", "30"]
            st = dev.state.streams[101]
            assert (st.codec, st.fps, st.bitrate_kbps, st.bitrate_mode) == ("h265", 15, 2048, "cbr")
            sub = await c.get("/ISAPI/Streaming/channels/102")
            assert val(xml(sub), "Video/videoResolutionWidth") == "640"
            missing = await c.get("/ISAPI/Streaming/channels/103")
            assert missing.status_code == 403 and status_of(missing) == (4, "notSupport")
            broken = await c.put("/ISAPI/Streaming/channels/102", content="<StreamingChannel><Video>")
            assert broken.status_code == 400 and status_of(broken)[0] == 5
            bad = await c.put(
                "/ISAPI/Streaming/channels/102",
                content="<StreamingChannel><Video><maxFrameRate>9000</maxFrameRate></Video></StreamingChannel>",
            )
            assert bad.status_code == 400 and status_of(bad) == (6, "badParameters")
            unknown = await c.get("/ISAPI/Nothing/here")
            assert unknown.status_code == 403 and status_of(unknown) == (4, "notSupport")

    run(scenario)


def test_time_ntp_osd_mask_services_round_trips() -> None:
    async def scenario() -> None:
        async with device(camera()) as dev, dev.client() as c:
            t = xml(await c.get("/ISAPI/System/time"))
            assert val(t, "timeMode") == "NTP" and val(t, "timeZone") == "CST-7:00:00"
            assert val(t, "localTime") == "2024-06-01T07:00:00+07:00"
            r = await c.put(
                "/ISAPI/System/time",
                content="<Time><timeMode>manual</timeMode><localTime>2024-06-01T08:30:00+07:00</localTime><timeZone>CST-7:00:00</timeZone></Time>",
            )
            assert status_of(r) == (1, "ok")
            assert val(xml(await c.get("/ISAPI/System/time")), "localTime") == "2024-06-01T08:30:00+07:00"
            dev.faults.set(Fault.clock_drift, seconds=300)
            assert val(xml(await c.get("/ISAPI/System/time")), "localTime") == "2024-06-01T08:35:00+07:00"
            dev.faults.clear(Fault.clock_drift)

            r = await c.put(
                "/ISAPI/System/time/ntpServers/1",
                content="<NTPServer><id>1</id><addressingFormatType>ipaddress</addressingFormatType><ipAddress>10.20.0.2</ipAddress><portNo>123</portNo><synchronizeInterval>30</synchronizeInterval></NTPServer>",
            )
            assert status_of(r) == (1, "ok")
            ntp = xml(await c.get("/ISAPI/System/time/ntpServers"))
            assert (val(ntp, "NTPServer/ipAddress"), val(ntp, "NTPServer/synchronizeInterval")) == ("10.20.0.2", "30")

            r = await c.put(
                "/ISAPI/System/Video/inputs/channels/1/overlays",
                content="<VideoOverlay><TextOverlayList><TextOverlay><id>1</id><enabled>true</enabled><displayText>CAMERA AN NINH</displayText></TextOverlay></TextOverlayList><DateTimeOverlay><enabled>false</enabled></DateTimeOverlay><channelNameOverlay><enabled>true</enabled><positionX>352</positionX><positionY>288</positionY></channelNameOverlay></VideoOverlay>",
            )
            assert status_of(r) == (1, "ok")
            osd = xml(await c.get("/ISAPI/System/Video/inputs/channels/1/overlays"))
            assert val(osd, "TextOverlayList/TextOverlay/displayText") == "CAMERA AN NINH"
            assert val(osd, "DateTimeOverlay/enabled") == "false"
            assert (val(osd, "channelNameOverlay/positionX"), val(osd, "channelNameOverlay/positionY")) == (
                "352",
                "288",
            )
            r = await c.put(
                "/ISAPI/System/Video/inputs/channels/1",
                content="<VideoInputChannel><id>1</id><name>Cho Ngoc Lac</name></VideoInputChannel>",
            )
            assert status_of(r) == (1, "ok") and dev.state.osd.text == "Cho Ngoc Lac"

            mask = (
                "<PrivacyMask><enabled>true</enabled><PrivacyMaskRegionList><PrivacyMaskRegion><id>1</id><enabled>true</enabled><RegionCoordinatesList>"
                + "".join(
                    f"<RegionCoordinates><positionX>{px}</positionX><positionY>{py}</positionY></RegionCoordinates>"
                    for px, py in ((70, 57), (422, 57), (422, 345), (70, 345))
                )
                + "</RegionCoordinatesList></PrivacyMaskRegion></PrivacyMaskRegionList></PrivacyMask>"
            )
            assert status_of(await c.put("/ISAPI/System/Video/inputs/channels/1/privacyMask", content=mask)) == (
                1,
                "ok",
            )
            region = dev.state.masks.regions[0]
            assert dev.state.masks.enabled and abs(region.x - 0.0994) < 1e-3 and abs(region.w - 0.5) < 1e-3
            got = xml(await c.get("/ISAPI/System/Video/inputs/channels/1/privacyMask"))
            xs = [int(e.text or "0") for e in got.iter("{http://www.hikvision.com/ver20/XMLSchema}positionX")]
            assert xs == [70, 422, 422, 70]

            for path, root, attr in (
                ("UPnP", "UPnP", "upnp"),
                ("EZVIZ", "EZVIZ", "p2p"),
                ("ssh", "SSH", "ssh"),
                ("telnetd", "Telnetd", "telnet"),
            ):
                r = await c.put(f"/ISAPI/System/Network/{path}", content=f"<{root}><enabled>true</enabled></{root}>")
                assert status_of(r) == (1, "ok")
                assert val(xml(await c.get(f"/ISAPI/System/Network/{path}")), "enabled") == "true"
                assert getattr(dev.state.services, attr) is True
            r = await c.put("/ISAPI/System/Network/EZVIZ", content="<EZVIZ><enabled>false</enabled></EZVIZ>")
            assert status_of(r) == (1, "ok") and dev.state.services.p2p is False

    run(scenario)


def test_users_add_change_password_delete() -> None:
    async def scenario() -> None:
        async with device(camera()) as dev, dev.client() as c:
            r = await c.post(
                "/ISAPI/Security/users",
                content="<User><userName>operator1</userName><password>Op-pass-2024</password><userLevel>Operator</userLevel></User>",
            )
            assert status_of(r) == (1, "ok")
            new_id = int(val(xml(r), "id"))
            users = xml(await c.get("/ISAPI/Security/users"))
            assert [e.text for e in users.iter("{http://www.hikvision.com/ver20/XMLSchema}userName")] == [
                "admin",
                "operator1",
            ]
            async with dev.client(user="operator1", password="Op-pass-2024") as op:
                assert (await op.get("/ISAPI/System/deviceInfo")).status_code == 200
                denied = await op.put("/ISAPI/System/Network/ssh", content="<SSH><enabled>true</enabled></SSH>")
                assert denied.status_code == 403 and status_of(denied) == (4, "lowPrivilege")
            r = await c.put(
                f"/ISAPI/Security/users/{new_id}",
                content=f"<User><id>{new_id}</id><userName>operator1</userName><password>New-pass-2024</password></User>",
            )
            assert status_of(r) == (1, "ok")
            async with dev.client(user="operator1", password="New-pass-2024") as op:
                assert (await op.get("/ISAPI/System/deviceInfo")).status_code == 200
            assert status_of(await c.delete("/ISAPI/Security/users/1")) == (4, "invalidOperation")
            assert status_of(await c.delete(f"/ISAPI/Security/users/{new_id}")) == (1, "ok")
            assert "operator1" not in dev.state.users

    run(scenario)


# --------------------------------------------------------------------------- snapshot, faults


def test_snapshot_is_a_real_jpeg(tmp_path: Any) -> None:
    async def scenario() -> None:
        async with device(camera()) as dev, dev.client() as c:
            r = await c.get("/ISAPI/Streaming/channels/102/picture")
            assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
            assert r.content[:2] == b"\xff\xd8" and r.content[-2:] == b"\xff\xd9"
            (tmp_path / "snap.jpg").write_bytes(r.content)

    run(scenario)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(tmp_path / "snap.jpg")],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    stream = json.loads(probe.stdout)["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("mjpeg", 640, 360)


def test_malformed_slow_and_unreachable_faults() -> None:
    async def scenario() -> None:
        async with device(camera()) as dev, dev.client() as c:
            assert (await c.get("/ISAPI/System/deviceInfo")).status_code == 200
            dev.faults.set(Fault.malformed)
            r = await c.get("/ISAPI/System/deviceInfo")
            assert r.status_code == 200
            with pytest.raises(ET.ParseError):
                SafeET.fromstring(r.content)
            dev.faults.clear(Fault.malformed)
            dev.faults.set(Fault.slow, delay_s=0.4)
            start = time.monotonic()
            assert (await c.get("/ISAPI/System/deviceInfo")).status_code == 200
            assert time.monotonic() - start >= 0.35
            dev.faults.clear(Fault.slow)
            dev.faults.set(Fault.hang)
            with pytest.raises(httpx.ReadTimeout):
                await c.get("/ISAPI/System/deviceInfo", timeout=0.3)
            dev.faults.clear(Fault.hang)
            dev.faults.set(Fault.offline)
            with pytest.raises(httpx.TransportError):
                await c.get("/ISAPI/System/deviceInfo")
            dev.faults.clear(Fault.offline)
            assert (await c.get("/ISAPI/System/deviceInfo")).status_code == 200

    run(scenario)


# --------------------------------------------------------------------------- maintenance


async def _wait_back(dev: Dev) -> httpx.Response:
    for _ in range(60):
        try:
            async with dev.client() as c:
                return await c.get("/ISAPI/System/deviceInfo")
        except httpx.TransportError:
            await asyncio.sleep(0.05)
    raise AssertionError("device did not come back")


def test_firmware_upload_progress_then_new_build_after_reboot() -> None:
    async def scenario() -> None:
        async with device(camera()) as dev, dev.client() as c:
            seen: list[int] = []

            async def poll() -> None:
                async with dev.client() as p:
                    while True:
                        up = xml(await p.get("/ISAPI/System/upgradeStatus"))
                        if val(up, "upgrading") == "true":
                            seen.append(int(val(up, "percent")))
                        await asyncio.sleep(0.03)

            poller = asyncio.create_task(poll())
            r = await c.put(
                "/ISAPI/System/updateFirmware",
                content=make_firmware(MODEL, NEW_BUILD),
                headers={"Content-Type": "application/octet-stream"},
            )
            poller.cancel()
            assert r.status_code == 200 and status_of(r) == (7, "rebootRequired")
            assert seen and 0 <= min(seen) < max(seen) < 100
            assert val(xml(await c.get("/ISAPI/System/deviceInfo")), "firmwareVersion") == "V5.6.3"
            assert status_of(await c.put("/ISAPI/System/reboot")) == (1, "ok")
            with pytest.raises(httpx.TransportError):
                await c.get("/ISAPI/System/deviceInfo")
            dev.clock.t += 61
            info = xml(await _wait_back(dev))
            assert (val(info, "firmwareVersion"), val(info, "firmwareReleasedDate")) == ("V5.7.15", "build 230519")
            assert dev.state.firmware == NEW_BUILD

    run(scenario)


def test_firmware_wrong_model_fail_and_brick() -> None:
    async def scenario() -> None:
        async with device(camera()) as dev, dev.client() as c:
            wrong = await c.put(
                "/ISAPI/System/updateFirmware", content=make_firmware("DS-7732NI-K4", "V4.62.210 build 230306")
            )
            assert wrong.status_code == 400 and status_of(wrong) == (6, "badDevType")
            assert val(xml(wrong), "description") == "upgrade packet mismatch"
            junk = await c.put("/ISAPI/System/updateFirmware", content=os.urandom(2048))
            assert status_of(junk) == (6, "fileFormatError")

            dev.faults.set(Fault.flash_fail)
            failed = await c.put("/ISAPI/System/updateFirmware", content=make_firmware(MODEL, NEW_BUILD))
            assert failed.status_code == 500 and status_of(failed) == (3, "badFlash")
            assert dev.state.firmware == BUILD
            dev.faults.clear(Fault.flash_fail)

            dev.faults.set(Fault.flash_brick)
            with pytest.raises(httpx.TransportError):
                await c.put("/ISAPI/System/updateFirmware", content=make_firmware(MODEL, NEW_BUILD))
            assert dev.faults.bricked
            with pytest.raises(httpx.TransportError):
                await c.get("/ISAPI/System/deviceInfo")
            dev.faults.clear(Fault.flash_brick)
            assert not dev.faults.bricked
            assert val(xml(await _wait_back(dev)), "firmwareVersion") == "V5.6.3"

    run(scenario)


def test_config_export_is_opaque_bytes_that_restore() -> None:
    async def scenario() -> None:
        async with device(camera()) as dev, dev.client() as c:
            blob = (await c.get("/ISAPI/System/configurationData")).content
            assert blob.startswith(b"CAMFLEET-SIM-CONFIG") and b"kp01-cho" not in blob
            await c.put("/ISAPI/System/deviceInfo", content="<DeviceInfo><deviceName>renamed</deviceName></DeviceInfo>")
            assert dev.state.device_name == "renamed"
            assert status_of(await c.put("/ISAPI/System/configurationData", content=blob)) == (1, "ok")
            assert dev.state.device_name == "kp01-cho"

    run(scenario)


# --------------------------------------------------------------------------- NVR

TB = 10**12
NVR_MODEL, NVR_SERIAL = "DS-7732NI-K4", "DS-7732NI-K40420230318CCRR288757892"


def nvr(disks: list[int] | None = None, overwrite: bool = True) -> NvrState:
    return NvrState.configured(
        "hikvision",
        NVR_MODEL,
        NVR_SERIAL,
        "c0:56:e3:a4:55:c5",
        "V4.62.210 build 230306",
        admin_password=PASSWORD,
        name="nvr-01",
        disk_bytes=disks or [4 * TB, 4 * TB],
        overwrite=overwrite,
    )


def test_nvr_hdd_list_follows_tick_and_disk_failed_fault() -> None:
    async def scenario() -> None:
        state = nvr()
        for n in (1, 2, 3):
            state.add_channel(ProxyChannel(address=f"10.30.0.{n}", password="x"))
        async with device(state) as dev, dev.client() as c:
            storage = xml(await c.get("/ISAPI/ContentMgmt/Storage"))
            assert storage.tag == "{http://www.isapi.org/ver20/XMLSchema}storage"
            assert int(val(storage, "hddList/hdd/capacity")) == 4 * TB // 2**20
            assert int(val(storage, "hddList/hdd/freeSpace")) == 4 * TB // 2**20
            # 3 channels x 4 Mbit/s for one simulated day
            for _ in range(24):
                state.tick(dev.clock.t + 3600, 3600, lambda n: True, lambda n: 4096)
                dev.clock.t += 3600
            used_mib = 3 * 4096 * 125 * 86400 // 2**20
            hdds = xml(await c.get("/ISAPI/ContentMgmt/Storage/hdd"))
            free = [int(e.text or "0") for e in hdds.iter("{http://www.isapi.org/ver20/XMLSchema}freeSpace")]
            assert abs((4 * TB // 2**20 - free[0]) - used_mib) <= 2 and free[1] == 4 * TB // 2**20
            assert state.channel_status(1) == (True, True)
            dev.faults.set(Fault.disk_failed, slot=2)
            statuses = [
                e.text
                for e in xml(await c.get("/ISAPI/ContentMgmt/Storage/hdd")).iter(
                    "{http://www.isapi.org/ver20/XMLSchema}status"
                )
            ]
            assert statuses == ["ok", "error"]
            assert status_of(await c.put("/ISAPI/ContentMgmt/Storage/hdd/2/format")) == (3, "deviceError")
            dev.faults.clear(Fault.disk_failed)
            statuses = [
                e.text
                for e in xml(await c.get("/ISAPI/ContentMgmt/Storage/hdd")).iter(
                    "{http://www.isapi.org/ver20/XMLSchema}status"
                )
            ]
            assert statuses == ["ok", "unformatted"]
            assert status_of(await c.put("/ISAPI/ContentMgmt/Storage/hdd/2/format")) == (1, "ok")
            assert val(xml(await c.get("/ISAPI/ContentMgmt/Storage/hdd/2")), "status") == "ok"

    run(scenario)


def test_nvr_channels_add_modify_delete_and_status() -> None:
    async def scenario() -> None:
        state = nvr()
        async with device(state) as dev, dev.client() as c:
            body = "<InputProxyChannel><name>cho</name><sourceInputPortDescriptor><proxyProtocol>HIKVISION</proxyProtocol><addressingFormatType>ipaddress</addressingFormatType><ipAddress>10.30.0.7</ipAddress><managePortNo>8000</managePortNo><srcInputPort>1</srcInputPort><userName>admin</userName><password>Cam-pass-2024</password></sourceInputPortDescriptor></InputProxyChannel>"
            r = await c.post("/ISAPI/ContentMgmt/InputProxy/channels", content=body)
            assert status_of(r) == (1, "ok") and val(xml(r), "id") == "1"
            got = await c.get("/ISAPI/ContentMgmt/InputProxy/channels/1")
            assert (
                val(xml(got), "sourceInputPortDescriptor/ipAddress") == "10.30.0.7" and "Cam-pass-2024" not in got.text
            )
            r = await c.put(
                "/ISAPI/ContentMgmt/InputProxy/channels/1",
                content="<InputProxyChannel><id>1</id><name>cho-moi</name><sourceInputPortDescriptor><proxyProtocol>ONVIF</proxyProtocol><ipAddress>10.30.0.8</ipAddress><managePortNo>80</managePortNo></sourceInputPortDescriptor></InputProxyChannel>",
            )
            assert status_of(r) == (1, "ok")
            ch = state.channels[1]
            assert (ch.name, ch.protocol, ch.address, ch.port, ch.password) == (
                "cho-moi",
                "ONVIF",
                "10.30.0.8",
                80,
                "Cam-pass-2024",
            )
            state.tick(dev.clock.t, 10, lambda n: True, lambda n: 1024)
            st = xml(await c.get("/ISAPI/ContentMgmt/InputProxy/channels/status"))
            assert val(st, "InputProxyChannelStatus/online") == "true"
            rec = xml(await c.get("/ISAPI/ContentMgmt/record/status"))
            assert val(rec, "RecordStatus/recording") == "true"
            track = xml(await c.get("/ISAPI/ContentMgmt/record/tracks/101"))
            assert (
                val(track, "TrackSchedule/ScheduleBlockList/ScheduleBlock/ScheduleAction/Actions/ActionRecordingMode")
                == "CMR"
            )
            r = await c.put(
                "/ISAPI/ContentMgmt/record/tracks/101",
                content="<Track><id>101</id><Channel>101</Channel><Enable>false</Enable><LoopEnable>true</LoopEnable></Track>",
            )
            assert status_of(r) == (1, "ok") and state.schedules[1] == "none"
            state.tick(dev.clock.t + 10, 10, lambda n: True, lambda n: 1024)
            assert state.channel_status(1) == (True, False)
            assert status_of(await c.delete("/ISAPI/ContentMgmt/InputProxy/channels/1")) == (1, "ok")
            gone = await c.get("/ISAPI/ContentMgmt/InputProxy/channels/1")
            assert gone.status_code == 403 and not state.channels

    run(scenario)


def test_nvr_track_switch_and_days_as_real_recorders_write_them() -> None:
    """``Track/Enable`` reads false (as on the real recorders in docs/reference/devices.md §1), the switch is
    ``enableSchedule``; a day ``Monday 00:00 → Tuesday 00:00`` counts as the whole Monday; a PUT without the
    extension leaves the switch alone."""

    def action(i: int, day: str, end_day: str, end: str = "00:00:00", mode: str = "CMR") -> str:
        return (
            f"<ScheduleAction><id>{i}</id><ScheduleActionStartTime><DayOfWeek>{day}</DayOfWeek><TimeOfDay>00:00:00</TimeOfDay>"
            f"</ScheduleActionStartTime><ScheduleActionEndTime><DayOfWeek>{end_day}</DayOfWeek><TimeOfDay>{end}</TimeOfDay>"
            f"</ScheduleActionEndTime><Actions><Record>true</Record><ActionRecordingMode>{mode}</ActionRecordingMode></Actions></ScheduleAction>"
        )

    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    week = "".join(action(i + 1, d, days[(i + 1) % 7]) for i, d in enumerate(days))

    def track(actions: str, switch: str | None) -> str:
        ext = (
            f"<CustomExtensionList><CustomExtension><enableSchedule>{switch}</enableSchedule></CustomExtension></CustomExtensionList>"
            if switch
            else ""
        )
        return f"<Track><id>101</id><Enable>false</Enable><TrackSchedule><ScheduleBlockList><ScheduleBlock>{actions}</ScheduleBlock></ScheduleBlockList></TrackSchedule>{ext}</Track>"

    async def scenario() -> None:
        state = nvr()
        state.add_channel(ProxyChannel("10.30.0.7", password="Cam-pass-2024", name="cho"), 1)
        async with device(state) as dev, dev.client() as c:
            got = xml(await c.get("/ISAPI/ContentMgmt/record/tracks/101"))
            assert (
                val(got, "Enable") == "false"
                and val(got, "CustomExtensionList/CustomExtension/enableSchedule") == "true"
            )
            assert (
                val(got, "TrackSchedule/ScheduleBlockList/ScheduleBlock/ScheduleAction/ScheduleActionEndTime/DayOfWeek")
                == "Tuesday"
            )
            assert status_of(await c.put("/ISAPI/ContentMgmt/record/tracks/101", content=track(week, "false"))) == (
                1,
                "ok",
            )
            assert state.schedules[1] == "continuous" and state.records_continuously(1) is False
            got = xml(await c.get("/ISAPI/ContentMgmt/record/tracks/101"))
            assert val(got, "CustomExtensionList/CustomExtension/enableSchedule") == "false"
            assert status_of(await c.put("/ISAPI/ContentMgmt/record/tracks/101", content=track(week, None))) == (
                1,
                "ok",
            )
            assert state.schedule_switch[1] is False  # no extension in the body: the switch stays off
            assert status_of(await c.put("/ISAPI/ContentMgmt/record/tracks/101", content=track(week, "true"))) == (
                1,
                "ok",
            )
            assert state.records_continuously(1)
            holey = week.replace(action(7, "Sunday", "Monday"), action(7, "Sunday", "Sunday", "23:00:00"))
            assert status_of(await c.put("/ISAPI/ContentMgmt/record/tracks/101", content=track(holey, "true"))) == (
                1,
                "ok",
            )
            assert state.schedules[1] == "event"

    run(scenario)


def _search_body(track: int, start: str, end: str, position: int = 0, limit: int = 40) -> str:
    return (
        f"<CMSearchDescription><searchID>C0FFEE00-0000-0000-0000-000000000001</searchID><trackIDList><trackID>{track}</trackID></trackIDList>"
        f"<timeSpanList><timeSpan><startTime>{start}</startTime><endTime>{end}</endTime></timeSpan></timeSpanList>"
        f"<maxResults>{limit}</maxResults><searchResultPostion>{position}</searchResultPostion>"
        "<metadataList><metadataDescriptor>//recordType.meta.std-cgi.com</metadataDescriptor></metadataList></CMSearchDescription>"
    )


def test_nvr_search_finds_oldest_and_newest_and_overwrite_moves_oldest() -> None:
    async def scenario() -> None:
        # 2 GB of disk, one camera at 8 Mbit/s: full after ~33 simulated minutes
        state = nvr(disks=[2 * 10**9])
        state.add_channel(ProxyChannel(address="10.30.0.9"))
        async with device(state) as dev, dev.client() as c:
            for _ in range(20):  # 20 minutes
                dev.clock.t += 60
                state.tick(dev.clock.t, 60, lambda n: True, lambda n: 8192)
            r = xml(
                await c.post(
                    "/ISAPI/ContentMgmt/search",
                    content=_search_body(101, "2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
                )
            )
            assert val(r, "responseStatusStrg") == "OK" and int(val(r, "numOfMatches")) >= 1
            starts = [e.text for e in r.iter("{http://www.isapi.org/ver20/XMLSchema}startTime")]
            ends = [e.text for e in r.iter("{http://www.isapi.org/ver20/XMLSchema}endTime")]
            assert starts[0] == "2024-06-01T00:00:00Z" and ends[-1] == "2024-06-01T00:20:00Z"
            for _ in range(40):  # 40 more minutes: the disk fills and overwrites
                dev.clock.t += 60
                state.tick(dev.clock.t, 60, lambda n: True, lambda n: 8192)
            r = xml(
                await c.post(
                    "/ISAPI/ContentMgmt/search",
                    content=_search_body(101, "2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
                )
            )
            oldest = next(r.iter("{http://www.isapi.org/ver20/XMLSchema}startTime")).text
            assert oldest is not None and "2024-06-01T00:2" in oldest  # moved forward ~27 minutes
            assert state.channel_status(1) == (True, True)
            assert int(val(xml(await c.get("/ISAPI/ContentMgmt/Storage/hdd/1")), "freeSpace")) <= 1
            none = xml(
                await c.post(
                    "/ISAPI/ContentMgmt/search",
                    content=_search_body(201, "2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
                )
            )
            assert val(none, "responseStatusStrg") == "NO MATCHES"

    run(scenario)


def test_nvr_overwrite_off_stops_recording_and_search_pages() -> None:
    state = nvr(disks=[10**10], overwrite=False)
    state.add_channel(ProxyChannel(address="10.30.0.10"))
    now = T0
    for _ in range(30):  # 30 hours at 1 Mbit/s: 13.5 GB wanted, 10 GB fit
        now += 3600
        state.tick(now, 3600, lambda n: True, lambda n: 1024)
    assert state.channel_status(1) == (True, False)
    assert state.free_bytes() == 0
    span = state.recordings[1]
    assert span.start == T0 and span.end is not None and span.end < now

    async def scenario() -> None:
        async with device(state) as dev, dev.client() as c:
            page1 = xml(
                await c.post(
                    "/ISAPI/ContentMgmt/search",
                    content=_search_body(101, "2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z", 0, 10),
                )
            )
            assert val(page1, "responseStatusStrg") == "MORE" and val(page1, "numOfMatches") == "10"
            page3 = xml(
                await c.post(
                    "/ISAPI/ContentMgmt/search",
                    content=_search_body(101, "2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z", 20, 10),
                )
            )
            assert val(page3, "responseStatusStrg") == "OK"

    run(scenario)
