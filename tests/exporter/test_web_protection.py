"""The exporter behind its ``--web.config.file``: TLS and basic auth as the exporter-toolkit serves them.

The real CLI on loopback, over the reference town (``/probe?module=inventory`` contacts no
device, so no simulator is needed); certificates made at test time. A client without the
password gets 401 with ``WWW-Authenticate: Basic``, a wrong password or user 401, plain HTTP
no answer at all; the right login gets ``/metrics``, ``/sd`` and ``/probe``. The file is re-read
when it changes: a new user and a renewed certificate work without a restart, a broken edit
keeps the last good file. A bad file at start is one line on stderr and exit 1.

    .venv/bin/pytest tests/exporter/test_web_protection.py -q
"""

from __future__ import annotations

import os
import select
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import httpx
import pytest
import yaml

from tests.certs import Certs, make_certs
from tests.conftest import BIN, ROOT, TOWN
from tests.exporter.test_exporter import value

pytestmark = pytest.mark.slow

PASSWORD = "s3cret-Mật-khẩu"  # non-ASCII: compared as the bytes the client sends


def bcrypt_hash(password: str, cost: int = 4) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()


@dataclass
class Running:
    proc: subprocess.Popen[str]
    url: str
    stderr: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_exporter(work: Path, *args: str, config: dict[str, object] | None = None) -> Running:
    """``camfleet exporter`` on a free loopback port with ``args``; ``config`` overrides exporters/camfleet.yml."""
    settings = yaml.safe_load((ROOT / "exporters" / "camfleet.yml").read_text(encoding="utf-8"))
    settings.update(config or {})
    (work / "camfleet.yml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    stderr = work / "exporter.log"
    proc = subprocess.Popen(
        [
            *(str(BIN / "camfleet"), "exporter", "--config", str(work / "camfleet.yml"), "--inventory", str(TOWN)),
            *("--listen", "127.0.0.1:0", "--log-level", "info", *args),
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "CAMFLEET_OVERLAY"},
        stdout=subprocess.PIPE,
        stderr=stderr.open("w"),
        text=True,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("listening on "):
        proc.kill()
        pytest.fail(f"exporter did not start: {line!r} {stderr.read_text()[-2000:]}")
    return Running(proc, line.split()[-1], stderr)


def web_config(path: Path, certs: Certs | None, users: dict[str, str], extra: str = "") -> Path:
    text = ""
    if certs is not None:
        text += f"tls_server_config:\n  cert_file: {certs.server_cert}\n  key_file: {certs.server_key}\n"
    text += "http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n    X-Frame-Options: deny\n"
    text += "basic_auth_users:\n" + "".join(f"  {user}: '{hashed}'\n" for user, hashed in users.items())
    path.write_text(text + extra, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Certs, Path]]:
    work = tmp_path_factory.mktemp("protected")
    certs = make_certs(work / "certs")
    path = web_config(work / "web.yml", certs, {"prometheus": bcrypt_hash(PASSWORD)})
    running = start_exporter(work, "--web.config.file", str(path))
    try:
        yield running, certs, path
    finally:
        running.stop()


def client(certs: Certs, **kwargs: object) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=certs.ca), timeout=10, trust_env=False, **kwargs)  # type: ignore[arg-type]


def test_it_listens_on_https(protected: tuple[Running, Certs, Path]) -> None:
    running, _, _ = protected
    assert running.url.startswith("https://127.0.0.1:")


def test_no_credentials_is_401_with_a_basic_challenge_and_the_configured_headers(
    protected: tuple[Running, Certs, Path],
) -> None:
    running, certs, _ = protected
    with client(certs) as c:
        for path in ("/metrics", "/sd", "/probe?target=ngoc-lac&module=inventory", "/", "/nowhere"):
            reply = c.get(running.url + path)
            assert reply.status_code == 401, path
            assert reply.headers["WWW-Authenticate"] == "Basic"
            assert reply.headers["X-Content-Type-Options"] == "nosniff"
            assert reply.headers["X-Frame-Options"] == "deny"
            assert "camfleet" not in reply.text  # nothing of the exporter leaks before the login


def test_a_wrong_password_or_an_unknown_user_is_401(protected: tuple[Running, Certs, Path]) -> None:
    running, certs, _ = protected
    long = "x" * 100  # past bcrypt's 72 bytes: refused (bcrypt 5 raises), never a 500
    for user, password in (
        ("prometheus", "wrong"),
        ("prometheus", PASSWORD + "x"),
        ("admin", PASSWORD),
        ("", ""),
        ("prometheus", long),
    ):
        with client(certs, auth=(user, password)) as c:
            reply = c.get(running.url + "/metrics")
        assert reply.status_code == 401, (user, password)
        assert reply.headers["WWW-Authenticate"] == "Basic"
    with client(certs) as c:  # not Basic at all, and garbage after Basic
        for header in ("Bearer abc", "Basic !!!not-base64", "Basic " + "A" * 5000):
            assert c.get(running.url + "/metrics", headers={"Authorization": header}).status_code == 401


def test_the_right_login_reaches_every_endpoint(protected: tuple[Running, Certs, Path]) -> None:
    running, certs, _ = protected
    with client(certs, auth=("prometheus", PASSWORD)) as c:
        metrics = c.get(running.url + "/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["X-Content-Type-Options"] == "nosniff"
        assert value(metrics.text, "camfleet_exporter_web_config_last_reload_successful") == 1
        sd = c.get(running.url + "/sd", params={"module": "inventory"})
        assert sd.status_code == 200 and sd.json()[0]["labels"]["__param_target"] == "ngoc-lac"
        probe = c.get(running.url + "/probe", params={"target": "ngoc-lac", "module": "inventory"})
        assert probe.status_code == 200 and value(probe.text, "camfleet_probe_success") == 1
        assert (
            c.get(running.url + "/probe", params={"module": "nope"}).status_code == 400
        )  # past the login: its own 400


def test_plain_http_and_an_untrusted_certificate_get_no_answer(protected: tuple[Running, Certs, Path]) -> None:
    running, _, _ = protected
    plain = running.url.replace("https://", "http://")
    with pytest.raises(httpx.TransportError):
        httpx.get(plain + "/metrics", auth=("prometheus", PASSWORD), timeout=5, trust_env=False)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(running.url + "/metrics", timeout=5, trust_env=False)  # the system CAs do not know ours


def test_a_new_user_and_a_renewed_certificate_are_served_without_a_restart(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    path = web_config(tmp_path / "web.yml", certs, {"prometheus": bcrypt_hash(PASSWORD)})
    running = start_exporter(tmp_path, "--web.config.file", str(path))
    try:
        renewed_without_restart(running, certs, path, tmp_path)
    finally:
        running.stop()


def renewed_without_restart(running: Running, certs: Certs, path: Path, tmp_path: Path) -> None:
    pid = running.proc.pid
    with client(certs, auth=("grafana", "another")) as c:
        assert c.get(running.url + "/metrics").status_code == 401
    web_config(path, certs, {"prometheus": bcrypt_hash(PASSWORD), "grafana": bcrypt_hash("another")})

    def reaches(auth: tuple[str, str], ca: Path) -> int:
        with httpx.Client(verify=ssl.create_default_context(cafile=ca), auth=auth, timeout=5, trust_env=False) as c:
            return c.get(running.url + "/metrics").status_code

    deadline = time.monotonic() + 10
    while reaches(("grafana", "another"), certs.ca) != 200:
        assert time.monotonic() < deadline, "the new user was not accepted within 10 s"
        time.sleep(0.3)
    # A renewed certificate from another CA: new connections get it (the old CA no longer verifies).
    renewed = make_certs(tmp_path / "renewed", prefix="new-")
    shutil.copy(renewed.server_cert, certs.server_cert)
    shutil.copy(renewed.server_key, certs.server_key)
    deadline = time.monotonic() + 10
    while True:
        try:
            if reaches(("prometheus", PASSWORD), renewed.ca) == 200:
                break
        except httpx.ConnectError:
            pass
        assert time.monotonic() < deadline, "the renewed certificate was not served within 10 s"
        time.sleep(0.3)
    with pytest.raises(httpx.ConnectError):
        reaches(("prometheus", PASSWORD), certs.ca)
    assert running.proc.pid == pid and running.proc.poll() is None


def test_a_broken_edit_keeps_the_last_good_file(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    path = web_config(tmp_path / "web.yml", certs, {"prometheus": bcrypt_hash(PASSWORD)})
    running = start_exporter(tmp_path, "--web.config.file", str(path))
    try:
        good = path.read_text(encoding="utf-8")
        path.write_text(good.replace("basic_auth_users:", "basic_auth_userz:"), encoding="utf-8")
        with client(certs, auth=("prometheus", PASSWORD)) as c:
            deadline = time.monotonic() + 10
            while value(c.get(running.url + "/metrics").text, "camfleet_exporter_web_config_last_reload_successful"):
                assert time.monotonic() < deadline, "the broken edit was not noticed"
                time.sleep(0.3)
            with client(certs) as anonymous:
                assert anonymous.get(running.url + "/metrics").status_code == 401  # still protected
            assert c.get(running.url + "/metrics").status_code == 200
        assert "web config not reloaded, the last good one stays" in running.stderr.read_text()
        assert "basic_auth_userz: unknown field" in running.stderr.read_text()
    finally:
        running.stop()


def test_basic_auth_without_tls_and_a_client_certificate_requirement(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    # Basic auth alone (the toolkit allows it): plain HTTP, still 401 without the password.
    path = web_config(tmp_path / "web.yml", None, {"prometheus": bcrypt_hash(PASSWORD)})
    running = start_exporter(tmp_path, "--web.config.file", str(path))
    try:
        assert running.url.startswith("http://")
        assert httpx.get(running.url + "/metrics", timeout=5, trust_env=False).status_code == 401
        reply = httpx.get(running.url + "/metrics", auth=("prometheus", PASSWORD), timeout=5, trust_env=False)
        assert reply.status_code == 200
    finally:
        running.stop()
    # Mutual TLS: no client certificate, no connection; ours, an answer.
    mtls = tmp_path / "mtls"
    mtls.mkdir()
    extra = f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {certs.ca}\n"
    text = f"tls_server_config:\n  cert_file: {certs.server_cert}\n  key_file: {certs.server_key}\n{extra}"
    (mtls / "web.yml").write_text(text, encoding="utf-8")
    running = start_exporter(mtls, "--web.config.file", str(mtls / "web.yml"))
    try:
        anonymous = ssl.create_default_context(cafile=certs.ca)
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            httpx.get(running.url + "/metrics", verify=anonymous, timeout=5, trust_env=False)
        known = ssl.create_default_context(cafile=certs.ca)
        known.load_cert_chain(certs.client_cert, certs.client_key)
        assert httpx.get(running.url + "/metrics", verify=known, timeout=5, trust_env=False).status_code == 200
    finally:
        running.stop()


def test_a_bad_file_at_start_is_one_line_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text("basic_auth_users:\n  prometheus: plaintext-password\n", encoding="utf-8")
    out = subprocess.run(
        [str(BIN / "camfleet"), "exporter", "--inventory", str(TOWN), "--web.config.file", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        f'camfleet exporter: {path}: basic_auth_users: prometheus: not a bcrypt hash ($2y$10$ and 53 characters; htpasswd -nBC 10 "")'
    ]
    assert "plaintext-password" not in out.stderr
