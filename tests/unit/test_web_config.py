"""``--web.config.file`` (exporter-toolkit format): one bad file per rule, each refused with its exact one line.

The exporter must not start on a file it would misread: every message names the file and the
field. Certificates are made here with ``cryptography``; no socket is opened.

    .venv/bin/pytest tests/unit/test_web_config.py -q
"""

from __future__ import annotations

import ssl
from pathlib import Path

import bcrypt
import pytest
from cryptography.hazmat.primitives import serialization

from camfleet.exporter.web import WebConfigError, load_web_config
from tests.certs import Certs, make_certs

HASH = bcrypt.hashpw(b"secret", bcrypt.gensalt(4)).decode()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


def write(folder: Path, text: str) -> Path:
    path = folder / "web.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_gives_a_tls_context_with_relative_paths_read_from_its_folder(certs: Certs, tmp_path: Path) -> None:
    folder = certs.ca.parent
    path = write(
        folder,
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n"
        f"basic_auth_users:\n  prometheus: '{HASH}'\n",
    )
    loaded = load_web_config(path)
    assert loaded.tls is not None and loaded.tls.minimum_version is ssl.TLSVersion.TLSv1_3
    assert loaded.config.tls_server_config.cert_file == folder / "server.crt"
    assert loaded.config.basic_auth_users == {"prometheus": HASH}


def test_no_tls_section_or_an_empty_file_serves_plain_http(tmp_path: Path) -> None:
    assert load_web_config(write(tmp_path, "")).tls is None
    assert load_web_config(write(tmp_path, f"basic_auth_users: {{p: '{HASH}'}}\n")).tls is None


def test_client_certificates_are_verified_against_the_client_ca(certs: Certs) -> None:
    folder = certs.ca.parent
    path = write(
        folder,
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n",
    )
    tls = load_web_config(path).tls
    assert tls is not None and tls.verify_mode is ssl.CERT_REQUIRED


BAD = [
    (
        "tls_config: {}\n",
        "tls_config: unknown field (exporter-toolkit web config: tls_server_config, http_server_config, basic_auth_users)",
    ),
    (
        "tls_server_config:\n  key_file: server.key\n",
        "tls_server_config: cert_file: missing (needed once any TLS field is set)",
    ),
    (
        "tls_server_config:\n  cert_file: server.crt\n",
        "tls_server_config: key_file: missing (needed once any TLS field is set)",
    ),
    (
        "tls_server_config:\n  cert_file: nowhere.crt\n  key_file: server.key\n",
        "tls_server_config.cert_file: {folder}/nowhere.crt: no such file",
    ),
    (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n",
        "tls_server_config.cert_file/key_file: cannot load the pair: key values mismatch",
    ),
    (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAnyClientCert\n",
        "tls_server_config.client_auth_type: Input should be 'NoClientCert', 'VerifyClientCertIfGiven' or 'RequireAndVerifyClientCert'",
    ),
    (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n",
        "tls_server_config: client_ca_file: set without client_auth_type (use RequireAndVerifyClientCert)",
    ),
    (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n",
        "tls_server_config: client_auth_type: RequireAndVerifyClientCert needs client_ca_file",
    ),
    (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS14\n",
        "tls_server_config.min_version: Input should be 'TLS10', 'TLS11', 'TLS12' or 'TLS13'",
    ),
    (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n  max_version: TLS12\n",
        "tls_server_config: min_version: newer than max_version",
    ),
    (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
        "tls_server_config.cipher_suites: unknown cipher 'TLS_RSA_WITH_RC4_128_SHA'; known: ",
    ),
    (
        "tls_server_config:\n  cert: '-----BEGIN CERTIFICATE-----'\n",
        "tls_server_config: cert: inline certificates are not supported: write it to a file and use cert_file",
    ),
    (
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  curve_preferences: [X25519]\n",
        "tls_server_config: curve_preferences: not supported by camfleet's exporter (Python's ssl picks the curves)",
    ),
    (
        "http_server_config:\n  headers: {X-Frame-Options: allow}\n",
        "http_server_config.headers: X-Frame-Options: expected one of deny, sameorigin, got 'allow'",
    ),
    (
        "http_server_config:\n  headers: {Server: camfleet}\n",
        "http_server_config.headers: HTTP header 'Server' can not be configured; known: ",
    ),
    (
        "basic_auth_users:\n  prometheus: secret\n",
        'basic_auth_users: prometheus: not a bcrypt hash ($2y$10$ and 53 characters; htpasswd -nBC 10 "")',
    ),
    (
        "rate_limit: {interval: 1s, burst: 20}\n",
        "(file): rate_limit: not supported: Prometheus scrapes every target through one exporter",
    ),
    ("- tls_server_config\n", "(file): expected a mapping (tls_server_config, basic_auth_users, ...)"),
    ("tls_server_config: [\n", "not YAML: "),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD)])
def test_each_bad_file_is_refused_naming_the_file_and_field(certs: Certs, text: str, message: str) -> None:
    folder = certs.ca.parent
    path = write(folder, text)
    with pytest.raises(WebConfigError) as err:
        load_web_config(path)
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith(f"{path}: {message.format(folder=folder)}"), line


def test_an_encrypted_key_is_refused_not_prompted_for(certs: Certs, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(certs.server_key.read_bytes(), password=None)
    locked = tmp_path / "locked.key"
    locked.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pass"),
        )
    )
    path = write(tmp_path, f"tls_server_config:\n  cert_file: {certs.server_cert}\n  key_file: {locked}\n")
    with pytest.raises(WebConfigError, match=r"tls_server_config\.key_file: encrypted keys are not supported"):
        load_web_config(path)


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(WebConfigError, match=r"web\.yml: cannot read: No such file or directory$"):
        load_web_config(tmp_path / "web.yml")
