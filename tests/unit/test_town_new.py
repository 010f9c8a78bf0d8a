"""A second town (issue 12): `camfleet town new` scaffolds a valid empty town with a fresh vault whose password
lives outside the repository, the town's kind (xã, phường, thị trấn) gives the words of its documents, and
nothing outside inventory/ names the reference town."""

from __future__ import annotations

import ast
import base64
import io
import json
import re
import tokenize
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from camfleet.cli import main
from camfleet.cli.town import town_id
from camfleet.config import grafana
from camfleet.inventory import load
from camfleet.inventory.vault import read_vault
from camfleet.jobs.evidence import SigningKey
from tests.conftest import ROOT, TOWN


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def town(tmp_path: Path) -> tuple[Path, Path]:
    folder, pw = tmp_path / "minh-son", tmp_path / "secret" / "minh-son.vault-password"
    code, out, err = run(
        "town", "new", str(folder), "--name", "Xã Minh Sơn", "--kind", "xã", "--province", "Thanh Hóa",
        "--vault-password-file", str(pw),
    )  # fmt: skip
    assert code == 0, err
    assert str(pw) in out and "KEEP this password file safe" in out
    return folder, pw


def test_town_id_drops_the_kind_and_the_diacritics() -> None:
    assert town_id("Xã Minh Sơn") == "minh-son"
    assert town_id("Phường Đông Hải") == "dong-hai"
    assert town_id("Thị trấn Ngọc Lặc") == "ngoc-lac"
    assert town_id("  xã  Quảng Đức 2 ") == "quang-duc-2"


def test_the_new_town_validates(town: tuple[Path, Path]) -> None:
    folder, _ = town
    code, out, err = run("validate", str(folder))
    assert code == 0, err
    assert "Xã Minh Sơn (minh-son): hợp lệ — 0 mắt camera" in out and "valid — 0 cameras" in out
    fleet = load(folder, overlay=False).fleet
    assert (fleet.town.id, fleet.town.kind.value, fleet.town.province) == ("minh-son", "xã", "Thanh Hóa")
    assert fleet.town.station.name == "Công an xã Minh Sơn"
    assert 'name: "Xã Minh Sơn"' in (folder / "town.yml").read_text(encoding="utf-8")  # readable, not \u-escaped
    assert {p.id for p in fleet.profiles.values()} == {"main-1080p", "sub-360p", "main-1080p-h265"}
    # Generic defaults, nothing copied from the reference town's data.
    text = "\n".join(p.read_text(encoding="utf-8") for p in folder.rglob("*.yml") if p.parent.name != "vault")
    assert not re.search(r"ngọc lặc|ngoc-lac|thị trấn", text, re.IGNORECASE), text


def test_the_vault_opens_with_the_new_password_and_holds_fresh_keys(town: tuple[Path, Path], tmp_path: Path) -> None:
    folder, pw = town
    assert pw.stat().st_mode & 0o777 == 0o600
    assert not pw.resolve().is_relative_to(ROOT) and not pw.resolve().is_relative_to(folder)
    secrets = read_vault(folder, "secrets", pw)
    assert secrets["vault_device_credentials"] == {}
    pair = secrets["vault_wireguard_keys"]["core-01"]
    private = X25519PrivateKey.from_private_bytes(base64.b64decode(pair["private_key"]))
    assert base64.b64encode(private.public_key().public_bytes_raw()).decode() == pair["public_key"]
    SigningKey.from_vault(secrets)  # the footage signing key loads
    assert read_vault(folder, "contacts", pw) == {"vault_contacts": {}}
    # Ansible's own VaultLib opens it with the same password, under the town's vault id.
    raw = (folder / "vault" / "secrets.yml").read_bytes()
    assert raw.startswith(b"$ANSIBLE_VAULT;1.2;AES256;minh-son\n")
    lib = VaultLib([("minh-son", VaultSecret(pw.read_bytes().strip()))])
    assert b"vault_footage_signing_key" in lib.decrypt(raw)
    # A second town gets other secrets: nothing is a constant.
    code, _, err = run("town", "new", str(tmp_path / "b"), "--name", "Phường B", "--kind", "phường",
                       "--vault-password-file", str(tmp_path / "b.pw"))  # fmt: skip
    assert code == 0, err
    other = read_vault(tmp_path / "b", "secrets", tmp_path / "b.pw")
    assert other["vault_wireguard_keys"]["core-01"] != pair
    assert other["vault_footage_signing_key"] != secrets["vault_footage_signing_key"]
    assert (tmp_path / "b.pw").read_text() != pw.read_text()


def test_the_default_password_file_is_under_the_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    code, out, err = run("town", "new", str(tmp_path / "t"), "--name", "Thị trấn Phố Mới", "--kind", "thị trấn")
    assert code == 0, err
    pw = tmp_path / "config" / "camfleet" / "pho-moi.vault-password"
    assert pw.stat().st_mode & 0o777 == 0o600 and f"vault password: {pw}" in out
    assert read_vault(tmp_path / "t", "secrets", pw)["vault_wireguard_keys"]


def _refused(argv: list[str], *, nothing_at: list[Path]) -> str:
    code, out, err = run(*argv)
    assert code == 1, (out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for path in nothing_at:
        assert not path.exists(), path
    return err


def test_refusals_are_one_line_and_write_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep me")
    pw = tmp_path / "pw"
    err = _refused(["town", "new", str(busy), "--name", "Xã A", "--kind", "xã", "--vault-password-file", str(pw)],
                   nothing_at=[pw, busy / "town.yml"])  # fmt: skip
    assert "thư mục đã có dữ liệu" in err and "not empty" in err
    assert (busy / "notes.txt").read_text() == "keep me"

    new = tmp_path / "new"
    inside = ROOT / ".state" / "never-here.vault-password"
    err = _refused(["town", "new", str(new), "--name", "Xã A", "--kind", "xã", "--vault-password-file", str(inside)],
                   nothing_at=[inside, new])  # fmt: skip
    assert err.startswith(f"camfleet town new: {inside}: mật khẩu vault không được nằm trong kho git")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(ROOT / ".state" / "config"))  # a default inside the repo, too
    _refused(["town", "new", str(new), "--name", "Xã A", "--kind", "xã"], nothing_at=[ROOT / ".state" / "config", new])

    pw.write_text("another town's password\n")
    err = _refused(["town", "new", str(new), "--name", "Xã A", "--kind", "xã", "--vault-password-file", str(pw)],
                   nothing_at=[new])  # fmt: skip
    assert "tệp mật khẩu đã có" in err and pw.read_text() == "another town's password\n"

    _refused(["town", "new", str(new), "--name", "Xã ?!", "--kind", "xã", "--vault-password-file", str(tmp_path / "x")],
             nothing_at=[new, tmp_path / "x"])  # fmt: skip
    code, _, err = run("town", "new", str(new), "--name", "Xã A", "--kind", "huyện")
    assert code == 2 and "invalid choice" in err and not new.exists()


def test_reports_use_the_towns_own_word(town: tuple[Path, Path]) -> None:
    folder, _ = town
    code, budget, err = run("report", "budget", str(folder), "--format", "md")
    assert code == 0, err
    assert "— XÃ MINH SƠN" in budget and "Thiết bị tại Công an xã" in budget and "Ban vận động xã" in budget
    assert "thị trấn" not in budget.lower(), budget
    code, progress, err = run("report", "progress", str(folder), "--format", "md")
    assert code == 0, err
    assert "Công an xã" in progress and "thị trấn" not in progress.lower(), progress
    # The reference town is a thị trấn by its data, not by a default in the code.
    code, reference, err = run("report", "budget", str(TOWN), "--format", "md")
    assert code == 0, err
    assert "Thiết bị tại Công an thị trấn" in reference


def test_dashboards_for_a_town_use_its_word(town: tuple[Path, Path], tmp_path: Path) -> None:
    folder, _ = town
    assert grafana.main(["--town", str(folder), "--out", str(tmp_path / "d")]) == 0
    board = json.loads((tmp_path / "d" / "fleet-overview.json").read_text(encoding="utf-8"))
    assert board["title"] == "camfleet · Toàn xã / Fleet overview"
    availability = (tmp_path / "d" / "availability.json").read_text(encoding="utf-8")
    assert '"title": "Toàn xã / Whole commune"' in availability
    committed = (ROOT / "templates" / "grafana" / "dashboards" / "fleet-overview.json").read_text(encoding="utf-8")
    assert '"title": "camfleet · Toàn địa bàn / Fleet overview"' in committed


# ---------------------------------------------------------------------------------------- no town hard-wired

REFERENCE = re.compile(r"ngoc-lac|ngoc_lac|ngọc lặc|thị trấn", re.IGNORECASE)
#: Where a town could be hard-wired: code, roles, playbooks, templates, the collection, the exporter's files.
SCANNED = ["camfleet", "roles", "playbooks", "templates", "collections", "exporters", "ansible.cfg", "Makefile"]
#: Lines that name the reference town or the word on purpose: the kind's own value, its word in the glossary,
#: the Makefile's one default, and help texts that show an example ("e.g.", allowed on any line below).
ALLOWED = {
    ("camfleet/model.py", 'thi_tran = "thị trấn"'),
    ("camfleet/model.py", 'description="xã, phường or thị trấn:'),
    ("camfleet/inventory/glossary.py", 'TownKind.thi_tran.value: Term("thị trấn", "town"),'),
    ("camfleet/cli/town.py", 'help="xã, phường or thị trấn")'),
    ("Makefile", "TOWN ?= inventory/ngoc-lac"),
}


def _python_doc_lines(path: Path) -> set[int]:
    """Lines of docstrings, comments and Ansible's DOCUMENTATION/EXAMPLES/RETURN: where examples live."""
    text = path.read_text(encoding="utf-8")
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            lines.add(tok.start[0])
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                lines.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in {"DOCUMENTATION", "EXAMPLES", "RETURN"} for t in node.targets
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def hard_wired(root: Path = ROOT) -> list[str]:
    found = []
    for name in SCANNED:
        top = root / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            rel = path.relative_to(root).as_posix()
            if "__pycache__" in rel or "/tests/" in rel or path.suffix in {".md", ".pyc"}:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            doc = _python_doc_lines(path) if path.suffix == ".py" else set()
            for number, line in enumerate(text.splitlines(), 1):
                if not REFERENCE.search(line) or number in doc or "e.g." in line:
                    continue
                if path.suffix != ".py" and line.lstrip().startswith("#"):
                    continue  # a YAML, shell or unit-file comment: an example for people
                if any(rel == f and s in line for f, s in ALLOWED):
                    continue
                found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_nothing_outside_inventory_names_the_reference_town_or_its_kind() -> None:
    assert hard_wired() == []


def test_the_scan_finds_a_hard_wired_town(tmp_path: Path) -> None:
    (tmp_path / "camfleet").mkdir()
    (tmp_path / "camfleet" / "x.py").write_text(
        '"""Docstring: camfleet validate inventory/ngoc-lac is an example."""\n'
        "# a comment about Thị trấn Ngọc Lặc\n"
        'TITLE = "Toàn thị trấn / Whole town"\n'
        'HELP = "folder, e.g. inventory/ngoc-lac"\n',
        encoding="utf-8",
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\n# ok\ninventory = inventory/ngoc-lac/town.camfleet.yml\n")
    assert hard_wired(tmp_path) == [
        'camfleet/x.py:3: TITLE = "Toàn thị trấn / Whole town"',
        "ansible.cfg:3: inventory = inventory/ngoc-lac/town.camfleet.yml",
    ]
