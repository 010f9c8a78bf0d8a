"""RouterOS `/export` texts shaped like real ones (tests/drivers/replies/routeros/README.md names the
router and version each stands for): every one parses, flags included; parse -> render gives each
line back; the masked backup of each holds none of the secrets written into it.

No router, no simulator: the simulator is ours and can only agree with the driver; these shapes
are the routers'.

    .venv/bin/pytest tests/drivers/test_routeros_replies.py -q
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from camfleet.drivers.routeros.config import FLAG_SET, FLAG_UNSET, Entry, mask_export, parse_export
from camfleet.drivers.routeros.text import join_continuations, mask, raw_words

REPLIES = Path(__file__).parent / "replies" / "routeros"
FIXTURES = sorted(p.name for p in REPLIES.glob("*.rsc"))

#: Every secret value written into each fixture (after its wrapped lines are joined).
SECRETS = {
    "hap-ac2-7.18.rsc": [
        "greTq81wLm0xPsk",
        "8ODrKsuA5aLmo7SQbZONkG0Pdk+Uxw+uwOrJsdFK6Po=",
        "Hoa sen no trong ao, mat khau wifi cua nha van hoa khu 3 nam 2025",
        "0Z45wkmxDwtkO6T/XTe8KK9WHUqfnULhyfX1hvOmx3w=",
        "L2tpPsk-Khu3-2025",
        "IpsecId-Secret-7Fq2",
        "Ky thuat vien 2025!",
        "comm-Snmp9dKhu3",
        "RadiusShared-4471",
        "ScriptPass-66Tn",
        "MailPass-Kq9z",
    ],
    "rb750gr3-6.49.rsc": [
        "Pptp mat khau rat dai 2022",
        "L2tpClientPsk-2022",
        "L2tpPass-p4Rw",
        "WpaOld-Key-2022",
        "Wpa2-Key-ChoMoi-2022",
        "Guest-Pass-81",
        "V6-Ipsec-Secret-Zz",
        "BgpMd5-v6-771",
        "OspfKey-v6-12",
        "v6-Community-4Tq",
        "Romon-Secret-A",
        "Romon-Secret-B",
    ],
    "hap-ax2-7.13.rsc": [
        "Mat khau wifi truong hoc 2023",
        "llxvG8S8Ape2DXkEsRUQQktZthZn//zOK7Japg/8fbs=",
        "CamWifi-Pass-2023",
        "dNa8+UD7uHhalUHnVLkSZD+aM1feP4mQNDmOuTz8fgk=",
        "OvpnPass-7x2",
        "Sstp pass 2023",
        "GreAx2-Psk-19",
        "BgpMd5-v7-992",
        "OspfKey-v7-31",
        "SnmpAuth-v3-55",
        "SnmpPriv-v3-66",
        "UmShared-Secret-13",
    ],
    "rb5009-7.20-terse.rsc": [
        "CapsmanPass-2025",
        "L2tpTerse-Pass-3",
        "L2tpSrvTerse-Psk",
        "IpsecTerse-Secret",
        "1234567890:AAE-telegram-token-fake",
        "TerseMail-Pass-8",
    ],
}


def fixture(name: str) -> str:
    return (REPLIES / name).read_text(encoding="utf-8")


def item_lines(text: str) -> list[str]:
    """The add/set lines of an export as written, continuations joined, a terse line's menu left off."""
    out = []
    for line in join_continuations(text).splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        words = raw_words(line)
        k = 0
        if line.startswith("/"):
            while k < len(words) and words[k] not in ("add", "set") and "=" not in words[k]:
                k += 1
        if k < len(words):
            out.append(" ".join(words[k:]))
    return out


def entries(name: str, path: str) -> list[Entry]:
    return parse_export(fixture(name)).entries(path)


def test_every_fixture_is_named_in_the_readme_and_has_its_secrets_listed() -> None:
    readme = (REPLIES / "README.md").read_text(encoding="utf-8")
    assert sorted(SECRETS) == FIXTURES
    for name in FIXTURES:
        assert f"`{name}`" in readme
        assert fixture(name).startswith("# ") and "# software id = " in fixture(name)


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_parses(name: str) -> None:
    config = parse_export(fixture(name))
    assert sum(len(e) for e in config.sections.values()) == len(item_lines(fixture(name)))


def test_bare_flags_and_unset_properties_are_read_as_routeros_writes_them() -> None:
    route = entries("hap-ac2-7.18.rsc", "ip route")[0]
    assert route.flags == ("blackhole",) and route.args["dst-address"] == "10.99.0.0/16"
    assert route.fields()["blackhole"] == FLAG_SET
    assert entries("hap-ac2-7.18.rsc", "ipv6 route")[0].flags == ("blackhole",)
    tunnel = entries("hap-ac2-7.18.rsc", "interface 6to4")[0]
    assert (tunnel.flags, tunnel.args) == (("!keepalive",), {"name": "6to4-he", "remote-address": "203.0.113.77"})
    assert tunnel.fields()["keepalive"] == FLAG_UNSET
    assert entries("hap-ac2-7.18.rsc", "routing table")[0].flags == ("fib",)
    assert entries("hap-ax2-7.13.rsc", "routing ospf interface-template")[0].flags == ("passive",)
    assert entries("rb5009-7.20-terse.rsc", "routing ospf area")[0].flags == ("no-summaries",)
    terse = entries("rb5009-7.20-terse.rsc", "ip route")[0]
    assert terse.flags == ("blackhole",) and terse.args["gateway"] == "chr-tunnel"
    v6 = entries("rb750gr3-6.49.rsc", "ip route")[0]  # RouterOS 6 wrote a blackhole route as a type
    assert (v6.flags, v6.args["type"]) == ((), "blackhole")
    assert entries("rb750gr3-6.49.rsc", "interface eoip")[0].flags == ("!keepalive",)


@pytest.mark.parametrize("name", FIXTURES)
def test_parse_then_render_gives_every_line_back(name: str) -> None:
    config = parse_export(fixture(name))
    rendered = [e.line(masked=False) for es in config.sections.values() for e in es]
    assert Counter(rendered) == Counter(item_lines(fixture(name)))
    again = parse_export(config.text(masked=False))
    assert again.sections == config.sections


@pytest.mark.parametrize("name", FIXTURES)
def test_the_masked_backup_holds_no_secret(name: str) -> None:
    raw = fixture(name)
    joined = join_continuations(raw)
    backup = mask_export(raw)
    for secret in SECRETS[name]:
        assert secret in joined, f"{secret!r} is not in {name}: the test would prove nothing"
        assert secret not in backup, f"{name}: {secret!r} leaks into the backup"
        assert secret not in parse_export(raw).text(masked=True)
    # Only the secrets go: the header, the flags and every other value stay, and it still parses.
    assert backup.splitlines()[0] == raw.splitlines()[0]
    assert [len(e) for e in parse_export(backup).sections.values()] == [
        len(e) for e in parse_export(raw).sections.values()
    ]
    assert "<secret>" in backup


def test_the_old_line_mask_leaked_what_the_parsed_mask_hides() -> None:
    """Why the backup is masked on parsed lines: on the wrapped text a line mask hides the "\\"."""
    raw = fixture("rb750gr3-6.49.rsc")
    assert "Pptp mat khau rat dai 2022" in mask(raw)  # the value continues on the next line
    assert "password=<secret>" in mask_export(raw) and "Pptp mat khau" not in mask_export(raw)
    wg = fixture("hap-ax2-7.13.rsc")
    assert "llxvG8S8Ape2DXkEsRUQQktZthZn//zOK7Japg/8fbs=" in mask(wg)
    assert "private-key=<secret>" in mask_export(wg)


def test_public_values_survive_the_mask() -> None:
    backup = mask_export(fixture("hap-ac2-7.18.rsc"))
    assert 'public-key="wAA38Y8RGRTqisDZYOJ1oDL48waFHwhNZrGm2tgfjxI="' in backup
    assert "add blackhole comment=" in backup and "add !keepalive name=6to4-he" in backup
    assert 'user=backup password=\\"<secret>\\"' not in backup  # the script's password is masked...
    assert "user=backup password=<secret>" in backup and 'src-path=bk.backup\\r\\n"' in backup  # ...quotes kept


def test_a_console_line_mask_knows_every_secret_key() -> None:
    line = (
        "/interface l2tp-client add ipsec-secret=Q1z password=Q2z name=x; /interface wifi set wifi1 "
        'security.passphrase="Q3z b" ; /routing bgp connection add tcp-md5-key=Q4z ; /snmp community add '
        "authentication-password=Q5z encryption-password=Q6z ; /interface wireless security-profiles add "
        "wpa-pre-shared-key=Q7z wpa2-pre-shared-key=Q8z ; /user-manager router add shared-secret=Q9z public-key=pub"
    )
    masked = mask(line)
    assert not any(f"Q{n}z" in masked for n in range(1, 10)), masked
    assert "public-key=pub" in masked and "name=x;" in masked
