"""Simulated Dahua cameras (HTTP CGI), driven by httpx with DigestAuth and checked with ffprobe.

Each test serves its camera on a random 127.77.x.y address with a fake simulator clock and
stops the server at the end.

    .venv/bin/pytest tests/sim/test_dahua.py -q
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from http_sim import Served, run, served

from camfleet.drivers import dahua_init
from camfleet.sim.dahua import Timings, camera_app
from camfleet.sim.dahua.wizard import BadEnvelope, open_envelope
from camfleet.sim.devices import CameraState, make_firmware
from camfleet.sim.faults import Fault

MODEL, SERIAL, MAC = "IPC-HFW1230S1-S5", "7J0A1B2PAZ3C4D5", "3c:ef:8c:00:00:02"
BUILD, NEW_BUILD = "V2.800.0000000.16.R.210518", "V2.840.0000000.11.R.230412"
PASSWORD = "Ngoc-Lac-2023"
TIMINGS = Timings(reboot_s=60, flash_s=90, max_real_s=0.3)
Cam = Served


@asynccontextmanager
async def camera(state: CameraState | None = None) -> AsyncIterator[Cam]:
    state = state or CameraState.configured(
        "dahua", MODEL, SERIAL, MAC, BUILD, admin_password=PASSWORD, name="kp09-truong", ntp_server="10.20.0.1"
    )
    async with served(camera_app, state, password=PASSWORD, timings=TIMINGS) as cam:
        yield cam


def parse_kv(text: str) -> dict[str, str]:
    """Parse a key=value reply the way drivers do; fail on a line without '='."""
    out: dict[str, str] = {}
    for line in text.split("\r\n"):
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"not key=value: {line!r}")
        out[key] = value
    return out


def test_digest_realm_and_magicbox_identity() -> None:
    async def scenario() -> None:
        async with camera() as cam:
            async with httpx.AsyncClient(base_url=cam.base) as anon:
                first = await anon.get("/cgi-bin/magicBox.cgi", params={"action": "getSystemInfo"})
            assert first.status_code == 401
            assert (
                f'realm="Login to {SERIAL}"' in first.headers["www-authenticate"]
                and 'qop="auth"' in first.headers["www-authenticate"]
            )
            async with cam.client() as c:
                info = await c.get("/cgi-bin/magicBox.cgi", params={"action": "getSystemInfo"})
                assert info.status_code == 200 and info.text.endswith("\r\n")
                kv = parse_kv(info.text)
                assert (kv["deviceType"], kv["serialNumber"]) == (MODEL, SERIAL)
                assert parse_kv((await c.get("/cgi-bin/magicBox.cgi?action=getDeviceType")).text) == {"type": MODEL}
                assert parse_kv((await c.get("/cgi-bin/magicBox.cgi?action=getSerialNo")).text) == {"sn": SERIAL}
                assert parse_kv((await c.get("/cgi-bin/magicBox.cgi?action=getSoftwareVersion")).text) == {
                    "version": "2.800.0000000.16.R,build:2021-05-18"
                }
                assert parse_kv((await c.get("/cgi-bin/magicBox.cgi?action=getMachineName")).text) == {
                    "name": "kp09-truong"
                }
                bad = await c.get("/cgi-bin/magicBox.cgi?action=doesNotExist")
                assert bad.status_code == 400 and bad.text == "Error\r\nBad Request!\r\n"
                assert (await c.get("/cgi-bin/nothing.cgi?action=x")).status_code == 404

    run(scenario)


def test_getconfig_setconfig_round_trip() -> None:
    async def scenario() -> None:
        async with camera() as cam, cam.client() as c:
            enc = parse_kv((await c.get("/cgi-bin/configManager.cgi?action=getConfig&name=Encode")).text)
            assert enc["table.Encode[0].MainFormat[0].Video.BitRate"] == "4096"
            assert enc["table.Encode[0].MainFormat[0].Video.resolution"] == "1920x1080"
            r = await c.get(
                "/cgi-bin/configManager.cgi",
                params={
                    "action": "setConfig",
                    "Encode[0].MainFormat[0].Video.BitRate": "2048",
                    "Encode[0].MainFormat[0].Video.Compression": "H.265",
                    "Encode[0].MainFormat[0].Video.FPS": "15.000000",
                    "Encode[0].ExtraFormat[0].Video.resolution": "640x360",
                },
            )
            assert r.status_code == 200 and r.text == "OK\r\n"
            enc = parse_kv((await c.get("/cgi-bin/configManager.cgi?action=getConfig&name=Encode")).text)
            assert enc["table.Encode[0].MainFormat[0].Video.BitRate"] == "2048"
            assert enc["table.Encode[0].MainFormat[0].Video.Compression"] == "H.265"
            assert enc["table.Encode[0].ExtraFormat[0].Video.Width"] == "640"
            assert (cam.state.streams[101].fps, cam.state.streams[102].height) == (15, 360)

            r = await c.get(
                "/cgi-bin/configManager.cgi",
                params={
                    "action": "setConfig",
                    "NTP.Enable": "true",
                    "NTP.Address": "10.20.0.9",
                    "NTP.UpdatePeriod": "60",
                    "NTP.TimeZone": "12",
                },
            )
            assert r.text == "OK\r\n"
            ntp = parse_kv((await c.get("/cgi-bin/configManager.cgi?action=getConfig&name=NTP")).text)
            assert (ntp["table.NTP.Address"], ntp["table.NTP.TimeZoneDesc"], ntp["table.NTP.UpdatePeriod"]) == (
                "10.20.0.9",
                "GMT+07:00",
                "60",
            )

            params = {
                "action": "setConfig",
                "ChannelTitle[0].Name": "Truong THCS",
                "VideoWidget[0].Covers[0].EncodeBlend": "true",
            }
            params |= {f"VideoWidget[0].Covers[0].Rect[{i}]": str(v) for i, v in enumerate((819, 819, 4096, 4096))}
            assert (await c.get("/cgi-bin/configManager.cgi", params=params)).text == "OK\r\n"
            assert cam.state.osd.text == "Truong THCS" and cam.state.masks.enabled
            assert abs(cam.state.masks.regions[0].w - 0.4) < 1e-3

            for name, key, attr in (
                ("UPnP", "UPnP.Enable", "upnp"),
                ("T2UServer", "T2UServer.Enable", "p2p"),
                ("Telnet", "Telnet.Enable", "telnet"),
            ):
                assert (
                    await c.get("/cgi-bin/configManager.cgi", params={"action": "setConfig", key: "true"})
                ).text == "OK\r\n"
                got = parse_kv((await c.get(f"/cgi-bin/configManager.cgi?action=getConfig&name={name}")).text)
                assert got[f"table.{key}"] == "true" and getattr(cam.state.services, attr) is True

            # a bad value anywhere refuses the whole call and changes nothing
            before = cam.state.streams[101].bitrate_kbps
            bad = await c.get(
                "/cgi-bin/configManager.cgi",
                params={"action": "setConfig", "Encode[0].MainFormat[0].Video.BitRate": "1", "NTP.Address": "10.9.9.9"},
            )
            assert bad.status_code == 400 and bad.text == "Error\r\nBad Request!\r\n"
            assert cam.state.streams[101].bitrate_kbps == before and cam.state.ntp.server == "10.20.0.9"
            wrong_case = await c.get(
                "/cgi-bin/configManager.cgi", params={"action": "setConfig", "UPnP.Maptable[0].Enable": "false"}
            )
            assert wrong_case.status_code == 400

    run(scenario)


def test_time_users_and_storage() -> None:
    async def scenario() -> None:
        async with camera() as cam, cam.client() as c:
            assert parse_kv((await c.get("/cgi-bin/global.cgi?action=getCurrentTime")).text) == {
                "result": "2024-06-01 07:00:00"
            }
            assert (
                await c.get("/cgi-bin/global.cgi", params={"action": "setCurrentTime", "time": "2024-06-01 09:15:00"})
            ).text == "OK\r\n"
            cam.faults.set(Fault.clock_drift, seconds=-120)
            assert parse_kv((await c.get("/cgi-bin/global.cgi?action=getCurrentTime")).text) == {
                "result": "2024-06-01 09:13:00"
            }

            r = await c.get(
                "/cgi-bin/userManager.cgi",
                params={
                    "action": "addUser",
                    "user.Name": "viewer1",
                    "user.Password": "View-2024x",
                    "user.Group": "user",
                    "user.Sharable": "true",
                    "user.Reserved": "false",
                },
            )
            assert r.text == "OK\r\n"
            users = parse_kv((await c.get("/cgi-bin/userManager.cgi?action=getUserInfoAll")).text)
            assert (users["users[0].Name"], users["users[1].Name"], users["users[1].Group"]) == (
                "admin",
                "viewer1",
                "user",
            )
            async with cam.client(user="viewer1", password="View-2024x") as v:
                denied = await v.get(
                    "/cgi-bin/configManager.cgi", params={"action": "setConfig", "Telnet.Enable": "true"}
                )
                assert denied.status_code == 403
            wrong_old = await c.get(
                "/cgi-bin/userManager.cgi",
                params={"action": "modifyPassword", "name": "admin", "pwd": "Brand-New-2024", "pwdOld": "nope"},
            )
            assert wrong_old.status_code == 400
            ok = await c.get(
                "/cgi-bin/userManager.cgi",
                params={"action": "modifyPassword", "name": "admin", "pwd": "Brand-New-2024", "pwdOld": PASSWORD},
            )
            assert ok.text == "OK\r\n" and cam.state.users["admin"].password == "Brand-New-2024"
            storage = await c.get("/cgi-bin/storageDevice.cgi?action=getDeviceAllInfo")
            assert storage.status_code == 401  # the old password no longer works on this client
            async with cam.client(password="Brand-New-2024") as c2:
                storage = await c2.get("/cgi-bin/storageDevice.cgi?action=getDeviceAllInfo")
                assert storage.status_code == 200 and parse_kv(storage.text) == {}

    run(scenario)


def test_snapshot_is_a_real_jpeg(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with camera() as cam, cam.client() as c:
            r = await c.get("/cgi-bin/snapshot.cgi?channel=1")
            assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
            assert r.content[:2] == b"\xff\xd8" and r.content[-2:] == b"\xff\xd9"
            (tmp_path / "snap.jpg").write_bytes(r.content)
            assert (await c.get("/cgi-bin/snapshot.cgi?channel=2")).status_code == 400

    run(scenario)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(tmp_path / "snap.jpg")],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    stream = json.loads(probe.stdout)["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("mjpeg", 1920, 1080)


def test_lock_out_after_five_bad_logins_then_unlock() -> None:
    async def scenario() -> None:
        async with camera() as cam:
            bodies = []
            for i in range(5):
                async with cam.client(password=f"Wrong-{i}-pass") as c:
                    r = await c.get("/cgi-bin/magicBox.cgi?action=getMachineName")
                    assert r.status_code == 401
                    bodies.append(r.text)
            assert bodies[:4] == ["Error\r\nUnauthorized!\r\n"] * 4 and bodies[4] == "Error\r\nUser locked!\r\n"
            async with cam.client() as c:
                r = await c.get("/cgi-bin/magicBox.cgi?action=getMachineName")
                assert r.status_code == 401 and "locked" in r.text
                cam.clock.t += 1801
                r = await c.get("/cgi-bin/magicBox.cgi?action=getMachineName")
                assert r.status_code == 200 and parse_kv(r.text) == {"name": "kp09-truong"}

    run(scenario)


def test_uninitialised_camera_is_initialised_the_web_wizards_way() -> None:
    async def scenario() -> None:
        fresh = CameraState.factory_fresh("dahua", MODEL, SERIAL, MAC, BUILD)
        async with camera(fresh) as cam:
            async with cam.client() as c:
                r = await c.get("/cgi-bin/magicBox.cgi?action=getSystemInfo")
                assert r.status_code == 401 and "Invalid Authority!" in r.text
                assert "www-authenticate" not in r.headers
            async with httpx.AsyncClient(base_url=cam.base) as anon:
                ids = iter(range(1, 100))

                async def rpc(method: str, params: object = None, **extra: object) -> dict[str, Any]:
                    body = {"method": method, "params": params, "id": next(ids), **extra}
                    reply: dict[str, Any] = (await anon.post("/OutsideCmd", json=body)).json()
                    return reply

                assert (await rpc("DevInit.getStatus"))["params"]["Init"] == 1
                assert (await rpc("DevInit.getStatus", session=0))["result"] is False  # wizard sends none
                pub = (await rpc("Security.getEncryptInfo"))["params"]["pub"]
                assert pub.startswith("N:") and pub.endswith(",E:010001") and len(pub.split(",")[0]) == 2 + 512

                def account(password: str) -> dict[str, str]:
                    return dahua_init.envelope({"name": "admin", "pwd": password, "CellPhone": "", "Mail": ""}, pub)

                refused = await rpc("DevInit.account", account(PASSWORD))
                assert refused["result"] is False and "agreed" in refused["error"]["message"]  # licence first
                assert (await rpc("DevInit.setProtocolAgree", {"ProtocolEnable": True}))[
                    "result"
                ] is False  # no session
                assert (await rpc("DevInit.setProtocolAgree", {"ProtocolEnable": True}, session=0))["result"] is True
                assert (await rpc("DevInit.account", account("admin")))["result"] is False  # weak
                garbled = account(PASSWORD) | {"content": account(PASSWORD)["content"][::-1]}
                assert (await rpc("DevInit.account", garbled))["error"]["message"] == "Decryption failed"
                assert (await rpc("DevInit.account", account(PASSWORD)))["result"] is True
                access = dahua_init.envelope({"NetAccess": 0, "UpgradeCheck": 2}, pub)
                assert (await rpc("DevInit.access", access))["result"] is True
                assert (await rpc("DevInit.getStatus"))["params"]["Init"] == 2
                assert (await rpc("DevInit.account", account(PASSWORD)))["result"] is False  # only once
            async with cam.client() as c:
                assert (await c.get("/cgi-bin/magicBox.cgi?action=getSystemInfo")).status_code == 200
                p2p = parse_kv((await c.get("/cgi-bin/configManager.cgi?action=getConfig&name=T2UServer")).text)
                assert p2p["table.T2UServer.Enable"] == "false"  # NetAccess 0

    run(scenario)


def _seal(
    payload: object, key: rsa.RSAPrivateKey, session_key: bytes = b"12345678901234567890123456789012"
) -> dict[str, str]:
    """An RPAC-256 envelope written here from the protocol, not with the driver's code."""
    plain = json.dumps(payload).encode()
    plain += b"\0" * (-len(plain) % 16)
    aes = Cipher(algorithms.AES(session_key), modes.CBC(b"0" * 16)).encryptor()
    return {
        "cipher": "RPAC-256",
        "salt": key.public_key().encrypt(session_key, padding.PKCS1v15()).hex(),
        "content": base64.b64encode(aes.update(plain) + aes.finalize()).decode(),
    }


def test_the_device_opens_rpac_envelopes_itself() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert open_envelope(_seal({"name": "admin", "pwd": "Phố-2024x"}, key), key) == {
        "name": "admin",
        "pwd": "Phố-2024x",
    }
    good = _seal({"NetAccess": 0}, key)
    for bad in (
        good | {"cipher": "AES"},
        _seal({"x": 1}, key, session_key=b"1234567890123456789012345678901a"),  # not all digits
        good | {"salt": good["salt"][:-2]},
        good | {"content": good["content"][4:]},
        {"cipher": "RPAC-256", "salt": good["salt"]},
    ):
        with pytest.raises(BadEnvelope):
            open_envelope(bad, key)


def test_firmware_upgrade_reboots_into_the_new_build_and_faults() -> None:
    def upload(build: str, model: str = MODEL) -> dict[str, tuple[str, bytes]]:
        return {"file": ("fw.bin", make_firmware(model, build))}

    async def scenario() -> None:
        async with camera() as cam:
            async with cam.client() as c:
                wrong = await c.post(
                    "/cgi-bin/upgrader.cgi?action=uploadFirmware", files=upload(NEW_BUILD, "IPC-HDW5831R-ZE")
                )
                assert wrong.status_code == 400 and wrong.text.startswith("Error\r\n")
                r = await c.post("/cgi-bin/upgrader.cgi?action=uploadFirmware", files=upload(NEW_BUILD))
                assert r.text == "OK\r\n"
                state = parse_kv((await c.get("/cgi-bin/upgrader.cgi?action=getState")).text)
                assert state["state"] == "Upgrading" and 0 <= int(state["progress"]) < 100
                for _ in range(100):  # flashes, then reboots by itself
                    try:
                        await c.get("/cgi-bin/upgrader.cgi?action=getState")
                    except httpx.TransportError:
                        break
                    await asyncio.sleep(0.02)
                else:
                    raise AssertionError("never rebooted")
                cam.clock.t += 61
            async with cam.client() as c:
                version = parse_kv((await c.get("/cgi-bin/magicBox.cgi?action=getSoftwareVersion")).text)
                assert version == {"version": "2.840.0000000.11.R,build:2023-04-12"}

                cam.faults.set(Fault.flash_fail)
                assert (
                    await c.post("/cgi-bin/upgrader.cgi?action=uploadFirmware", files=upload(BUILD))
                ).text == "OK\r\n"
                for _ in range(100):
                    state = parse_kv((await c.get("/cgi-bin/upgrader.cgi?action=getState")).text)
                    if state["state"] != "Upgrading":
                        break
                    await asyncio.sleep(0.02)
                assert state["state"] == "Failed" and cam.state.firmware == NEW_BUILD
                cam.faults.clear()

                cam.faults.set(Fault.flash_brick)
                assert (
                    await c.post("/cgi-bin/upgrader.cgi?action=uploadFirmware", files=upload(BUILD))
                ).text == "OK\r\n"
                for _ in range(100):
                    if cam.faults.bricked:
                        break
                    await asyncio.sleep(0.02)
                assert cam.faults.bricked
                with pytest.raises(httpx.TransportError):
                    await c.get("/cgi-bin/magicBox.cgi?action=getSoftwareVersion")
                cam.faults.clear(Fault.flash_brick)
            async with cam.client() as c:
                assert (await c.get("/cgi-bin/magicBox.cgi?action=getSoftwareVersion")).status_code == 200
                assert cam.state.firmware == NEW_BUILD

    run(scenario)


def test_malformed_reply_is_not_key_value() -> None:
    async def scenario() -> None:
        async with camera() as cam, cam.client() as c:
            cam.faults.set(Fault.malformed)
            r = await c.get("/cgi-bin/configManager.cgi?action=getConfig&name=Encode")
            assert r.status_code == 200
            with pytest.raises(ValueError):
                parse_kv(r.text)

    run(scenario)
