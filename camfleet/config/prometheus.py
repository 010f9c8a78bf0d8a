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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jinja2

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


#: Grace periods (``for:``) of the alerts; a test passes shorter ones.
DEFAULT_FOR: dict[str, str] = {
    "link_down": "2m",
    "tunnel_stale": "10m",
    "stream_down": "5m",  # a wifi blip must not page
    "stream_frozen": "2m",
    "recorder_down": "3m",
    "not_recording": "10m",
    "disk_failed": "2m",
    "disk_filling": "1h",
    "retention": "1h",
    "clock_skew": "15m",
    "firmware": "10m",
    "service": "15m",
}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES / "prometheus")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - YAML, not HTML
    )


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
) -> str:
    """prometheus.yml scraping the exporter at ``exporter`` (HOST:PORT), one job per module."""
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


def render_alertmanager_config(*, receiver: str = "station", webhook_url: str | None = None) -> str:
    """alertmanager.yml: grouping by link router and the inhibit rules that fold camera alerts under it."""
    return _environment().get_template("alertmanager.yml.j2").render(receiver=receiver, webhook_url=webhook_url)
