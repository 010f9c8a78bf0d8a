"""Prometheus configuration and alert rules for a town, rendered from ``templates/prometheus/``.

Why rendered and not static: the exporter address, the jobs' intervals and the alerts' grace
periods differ between the station (15 s scrapes, 5 min grace) and a test (2 s, seconds), while
the expressions must stay the same ones ``promtool test rules`` proved.

Jobs: one per exporter module, each with its own interval — the sub stream every 15 s, the main
stream every 5 min (a main-stream keyframe is 100-500 KB on a household uplink), recorders every
minute, device facts every 5 min, links every 15 s, the inventory's camera facts (for the
rollout and map dashboards) every minute.

    .venv/bin/python -c "from camfleet.config.prometheus import *; print(render_prometheus_config('127.0.0.1:9830'))" \\
        > /tmp/prometheus.yml && promtool check config /tmp/prometheus.yml

An exporter protected by its ``--web.config.file`` (TLS, basic auth) is scraped with
``access=ExporterAccess(...)``: every job and its ``/sd`` get ``scheme: https``, ``tls_config``
and ``basic_auth`` with a ``password_file`` (the password itself is never in this file).

Beyond one station (docs/scaling.md): ``shard=Shard(i, n)`` keeps, in every job, only the targets whose
``hashmod`` of (town, device id) is ``i`` — every Prometheus of the ``n`` reads the same ``/sd`` and each
target is scraped by exactly one (:func:`shard_of` computes the same hash); ``exporters={town: HOST:PORT}``
scrapes several towns' exporters (each /sd says its town in ``__meta_camfleet_town``, which becomes the
``town`` label); ``remote_write=RemoteWrite(url)`` sends everything to a central store (VictoriaMetrics,
Mimir, Thanos Receive), queued in the WAL while the link is down.

    .venv/bin/python -m camfleet.config.prometheus shards 2 --exporter ngoc-lac=127.0.0.1:9830 \
        --remote-write http://127.0.0.1:8428/api/v1/write --out /tmp/shards && promtool check config /tmp/shards/0/prometheus.yml
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from camfleet.inventory import InventoryError, load
from camfleet.model import Alerting, AlertKind, AlertReceiver
from camfleet.paths import TEMPLATES


@dataclass(frozen=True)
class Job:
    """One scrape job: an exporter module at its own interval."""

    module: str
    interval: str
    timeout: str
    comment: str


DEFAULT_JOBS: tuple[Job, ...] = (
    Job("stream", "15s", "10s", "sub stream: a keyframe and 1 s of counting, every 15 s"),
    Job("stream_main", "5m", "10s", "main stream: first keyframe only, every 5 min (uplink is scarce)"),
    Job("recorder", "1m", "30s", "recorders: disks, channels, retention"),
    Job("device", "5m", "15s", "firmware, clock skew, P2P/UPnP"),
    Job("link", "15s", "5s", "link routers: SSH banner, no login"),
    Job("link_wireguard", "2m", "15s", "link routers: WireGuard handshake ages (one SSH login)"),
    Job("inventory", "1m", "10s", "the inventory's word on every camera (status, khu phố, map position)"),
    Job("coverage", "1m", "10s", "each route's share seen by the cameras up now (stream probes)"),
)


@dataclass(frozen=True)
class ExporterAccess:
    """How Prometheus reaches an exporter protected by its web config file (None fields: not used)."""

    #: The CA (or the self-signed certificate itself) the exporter's certificate is checked with; set: https.
    ca_file: str | None = None
    #: The name in the exporter's certificate, when the scraped address is not in it.
    server_name: str | None = None
    #: Basic auth: the user, and the file Prometheus reads the password from (only its path is written here).
    username: str | None = None
    password_file: str | None = None

    def __post_init__(self) -> None:
        if (self.username is None) != (self.password_file is None):
            raise ValueError("basic auth needs both username and password_file")


@dataclass(frozen=True)
class Shard:
    """This Prometheus is shard ``index`` of ``count`` over the same service discovery."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard index {self.index} must be in 0..{self.count - 1} (count {self.count})")


def shard_of(town: str, device: str, count: int) -> int:
    """The shard Prometheus' ``hashmod`` over ``[__meta_camfleet_town, __param_target]`` puts a target on:
    md5 of the label values joined by ``;``, its last 8 bytes as a big-endian uint64, modulo ``count``."""
    digest = hashlib.md5(f"{town};{device}".encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % count


@dataclass(frozen=True)
class RemoteWrite:
    """Where a station's Prometheus sends its samples, and a queue sized to catch up after hours offline.

    Offline, Prometheus keeps retrying (``max_backoff``) and reads the missed samples back from its WAL
    when the store answers again; the WAL holds about 2 h of samples on defaults (the head block, cut at
    ``--storage.tsdb.min-block-duration``), so a longer outage loses the oldest part unless the station's
    Prometheus runs with a longer min-block-duration, or as an agent (``--enable-feature=agent``, WAL only).
    """

    url: str
    #: Samples buffered per queue shard; max_shards x capacity is what is held in memory while catching up.
    capacity: int = 20000
    max_shards: int = 10
    max_samples_per_send: int = 5000
    batch_send_deadline: str = "5s"
    min_backoff: str = "1s"
    max_backoff: str = "1m"
    #: A bearer token for the store, read from this file (Mimir, a protected vminsert); never the token itself.
    bearer_token_file: str | None = None


#: Grace periods (``for:``) of the alerts; a test passes shorter ones.
DEFAULT_FOR: dict[str, str] = {
    "link_down": "2m",
    "tunnel_stale": "10m",
    "stream_down": "5m",  # a wifi blip must not page
    "stream_frozen": "2m",
    "recorder_down": "3m",
    "not_recording": "10m",
    "disk_failed": "2m",
    "disk_full": "2m",  # before not_recording (10m): it inhibits the channel pages
    "disk_filling": "1h",
    "retention": "1h",
    "clock_skew": "15m",
    "firmware": "10m",
    "service": "15m",
    "wrong_camera": "5m",  # a swapped camera records the wrong place until fixed: page soon, not on one scrape
}


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES / "prometheus")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - YAML, not HTML
    )
    env.filters["regex_escape"] = re.escape  # Ansible's filter of the same name, for the role's rendering
    return env


def render_prometheus_config(
    exporter: str,
    *,
    town: str = "town",
    rule_files: Sequence[str] = ("alerts.yml",),
    jobs: Sequence[Job] = DEFAULT_JOBS,
    scrape_interval: str = "15s",
    evaluation_interval: str = "15s",
    sd_refresh_interval: str = "1m",
    alertmanagers: Sequence[str] = (),
    access: ExporterAccess | None = None,
    exporters: Mapping[str, str] | None = None,
    shard: Shard | None = None,
    remote_write: RemoteWrite | None = None,
    external_labels: Mapping[str, str] | None = None,
) -> str:
    """prometheus.yml scraping the exporter at ``exporter`` (HOST:PORT), one job per module.

    ``exporters``: a province, town id → its exporter (``exporter`` is then unused); ``shard``: keep only this
    shard's targets; ``remote_write``: the central store; ``external_labels``: more labels beside ``town``
    (and ``shard``) on everything this Prometheus sends.
    """
    for name in external_labels or {}:
        if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name) or name in {"town", "shard"}:
            raise ValueError(f"external label {name!r}: a Prometheus label name other than town and shard")
    return (
        _environment()
        .get_template("prometheus.yml.j2")
        .render(
            exporter=exporter,
            town=town,
            rule_files=list(rule_files),
            jobs=list(jobs),
            scrape_interval=scrape_interval,
            evaluation_interval=evaluation_interval,
            sd_refresh_interval=sd_refresh_interval,
            alertmanagers=list(alertmanagers),
            access=access,
            exporters=dict(exporters) if exporters else None,
            shard={"index": shard.index, "count": shard.count} if shard else None,
            remote_write=vars(remote_write) if remote_write else None,
            external_labels=dict(external_labels or {}),
        )
    )


def render_rules(
    *,
    for_overrides: Mapping[str, str] | None = None,
    disk_fill_window: str = "6h",
    clock_skew_s: float = 30,
    handshake_max_s: float = 300,
) -> str:
    """The alert rules file; ``for_overrides`` shortens grace periods (tests), keys of :data:`DEFAULT_FOR`."""
    unknown = set(for_overrides or {}) - set(DEFAULT_FOR)
    if unknown:
        raise ValueError(f"unknown alert grace periods: {', '.join(sorted(unknown))}; known: {', '.join(DEFAULT_FOR)}")
    return (
        _environment()
        .get_template("alerts.yml.j2")
        .render(
            for_={**DEFAULT_FOR, **(for_overrides or {})},
            disk_fill_window=disk_fill_window,
            clock_skew_s=clock_skew_s,
            handshake_max_s=handshake_max_s,
        )
    )


#: Where roles/monitoring writes the receivers' secret files on the station (0600, from the vault).
ALERTMANAGER_SECRETS_DIR = "/etc/prometheus/alertmanager-secrets"
#: The notification text (Go template, Vietnamese first); deployed beside alertmanager.yml.
NOTIFY_TEMPLATE = TEMPLATES / "prometheus" / "camfleet-notify.tmpl"


def render_alertmanager_config(
    *,
    alerting: Alerting | None = None,
    secrets_dir: str = ALERTMANAGER_SECRETS_DIR,
    templates: Sequence[str] = (),
    receiver: str = "station",
    webhook_url: str | None = None,
    group_wait: str = "30s",
    group_interval: str = "5m",
    telegram_token_inline: bool = False,
) -> str:
    """alertmanager.yml: grouping by link router, the inhibit rules that fold camera and channel alerts under
    the one page that explains them, and the town's receivers (``alerting``; ``webhook_url``: one more plain
    webhook, for tests). A receiver's secret is only ever a file name under ``secrets_dir``, named by its id.
    ``templates``: paths of notification template files (:data:`NOTIFY_TEMPLATE`) as Alertmanager will see them.
    ``telegram_token_inline``: for Alertmanager before 0.26 (Debian 12 ships 0.25), which has no
    ``bot_token_file``: each Telegram token is the placeholder :func:`token_placeholder` instead, which
    roles/monitoring replaces with the vault's token while writing the file (0600, never logged or diffed).

        .venv/bin/python -m camfleet.config.prometheus alertmanager inventory/ngoc-lac > /tmp/am.yml \\
            && amtool check-config /tmp/am.yml
    """
    receivers = list(alerting.receivers) if alerting else []
    if webhook_url:
        receivers.append(AlertReceiver(id="test-webhook", kind=AlertKind.webhook, url=webhook_url))
    by_kind = {kind.value: [r for r in receivers if r.kind is kind] for kind in AlertKind}
    return (
        _environment()
        .get_template("alertmanager.yml.j2")
        .render(
            receiver=receiver,
            secrets_dir=secrets_dir.rstrip("/"),
            templates=list(templates),
            group_wait=group_wait,
            group_interval=group_interval,
            telegram_token_inline=telegram_token_inline,
            token_placeholder=token_placeholder,
            **by_kind,
        )
    )


def token_placeholder(receiver_id: str) -> str:
    """What stands in alertmanager.yml for a Telegram token written inline (see ``telegram_token_inline``)."""
    return f"__CAMFLEET_SECRET_{receiver_id}__"


def inline_receivers(alerting: Alerting | None, telegram_token_inline: bool) -> list[str]:
    """Ids of the receivers whose secret goes inside alertmanager.yml (Telegram on Alertmanager before 0.26)."""
    if not (alerting and telegram_token_inline):
        return []
    return [r.id for r in alerting.receivers if r.kind is AlertKind.telegram]


def secret_receivers(alerting: Alerting | None) -> list[str]:
    """Ids of the receivers whose secret Alertmanager reads from a file (the role writes those from the vault)."""
    return [r.id for r in alerting.receivers if r.has_secret] if alerting else []


def write_shards(
    out: Path,
    count: int,
    *,
    exporters: Mapping[str, str],
    remote_write: RemoteWrite | None = None,
    **options: object,
) -> list[Path]:
    """``out/<i>/prometheus.yml`` for each shard ``i`` of ``count``, all over the same towns' exporters."""
    paths = []
    for index in range(count):
        folder = out / str(index)
        folder.mkdir(parents=True, exist_ok=True)
        town = next(iter(exporters)) if len(exporters) == 1 else "province"
        text = render_prometheus_config(
            exporters[town] if len(exporters) == 1 else "",
            town=town,
            exporters=None if len(exporters) == 1 else exporters,
            shard=Shard(index, count),
            remote_write=remote_write,
            **options,  # type: ignore[arg-type]
        )
        (folder / "prometheus.yml").write_text(text, encoding="utf-8")
        paths.append(folder / "prometheus.yml")
    return paths


def _shards_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m camfleet.config.prometheus shards")
    parser.add_argument("count", type=int, help="how many Prometheus shards")
    parser.add_argument(
        "--exporter", action="append", required=True, metavar="TOWN=HOST:PORT", help="a town's exporter (repeatable)"
    )
    parser.add_argument("--remote-write", metavar="URL", help="the central store's remote write URL")
    parser.add_argument("--rule-file", action="append", default=[], help="rule file path (repeatable)")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT/<shard>/prometheus.yml")
    args = parser.parse_args(argv)
    exporters = {}
    for item in args.exporter:
        town, sep, address = item.partition("=")
        if not sep or not town or not address:
            parser.error(f"--exporter {item!r}: TOWN=HOST:PORT")
        exporters[town] = address
    if args.count < 1:
        parser.error("count: at least 1")
    remote = RemoteWrite(args.remote_write) if args.remote_write else None
    for path in write_shards(args.out, args.count, exporters=exporters, remote_write=remote, rule_files=args.rule_file):
        print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m camfleet.config.prometheus alertmanager TOWN [--secrets-dir D] [--template F]``.

    Prints alertmanager.yml for the town's ``alerting:`` section (roles/monitoring calls this on the controller);
    ``--json`` prints ``{"config": ..., "secrets": [receiver ids]}`` instead. A bad town: its problems, exit 1.

    ``python -m camfleet.config.prometheus shards N --exporter TOWN=HOST:PORT ... [--remote-write URL] --out DIR``
    writes the N shards' prometheus.yml.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["shards"]:
        return _shards_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m camfleet.config.prometheus")
    parser.add_argument("what", choices=["alertmanager"])
    parser.add_argument("town", help="the town's inventory folder")
    parser.add_argument("--secrets-dir", default=ALERTMANAGER_SECRETS_DIR)
    parser.add_argument("--template", action="append", default=[], help="notification template path (repeatable)")
    parser.add_argument("--group-wait", default="30s")
    parser.add_argument("--group-interval", default="5m")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--telegram-token-inline",
        action="store_true",
        help="Alertmanager < 0.26: a placeholder for each Telegram token, filled in from the vault by the role",
    )
    args = parser.parse_args(argv)
    try:
        fleet = load(args.town, overlay=False).fleet
    except InventoryError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    alerting = fleet.town.alerting
    config = render_alertmanager_config(
        alerting=alerting,
        secrets_dir=args.secrets_dir,
        templates=args.template,
        group_wait=args.group_wait,
        group_interval=args.group_interval,
        telegram_token_inline=args.telegram_token_inline,
    )
    if args.json:
        out = {
            "config": config,
            "secrets": secret_receivers(alerting),
            "inline": inline_receivers(alerting, args.telegram_token_inline),
        }
        print(json.dumps(out, ensure_ascii=False))
    else:
        sys.stdout.write(config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
