"""The exporter's config file: modules (a probe kind, a credential profile, limits) and credential profiles.

Why a module names both a probe kind and a credential profile (pve-exporter's ``http.py``): a
Prometheus job says only ``module=stream``; which login and which limits that means is decided
here, on the station, so no secret ever rides in a scrape URL or a Prometheus config.

A credential profile either takes each device's own login from the town's vault
(``source: vault``, the default) or gives one fixed login (``source: static``, e.g. a read-only
monitoring user created on every camera); ``password_file`` keeps the password out of the file.

    .venv/bin/python -c "from camfleet.exporter.config import load_config; \\
        print(load_config('exporters/camfleet.yml').modules['stream'])"
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(Exception):
    """The config file is unreadable or invalid; the message names the file and the field."""


class Prober(StrEnum):
    """What a module probes, and so which devices it can be pointed at."""

    stream = "stream"  # RTSP PLAY to the first keyframe; cameras
    recorder = "recorder"  # disks, channels, retention; recorders
    device = "device"  # identity, firmware, clock, risky services; cameras and recorders
    link = "link"  # SSH banner (and WireGuard handshakes); link routers
    inventory = "inventory"  # what the inventory says of every camera (status, place); the town itself


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CredentialProfile(Strict):
    """Where a module's login comes from."""

    source: Literal["vault", "static"] = Field(
        default="vault", description="vault: each device's login from <town>/vault/secrets.yml; static: below."
    )
    username: str | None = Field(default=None, description="static: the user; vault: override the vault's user.")
    password: str | None = Field(default=None, description="static: the password (prefer password_file).")
    password_file: Path | None = Field(default=None, description="static: file holding the password.")

    @model_validator(mode="after")
    def _static_needs_login(self) -> CredentialProfile:
        if self.source == "static" and (not self.username or (self.password is None and self.password_file is None)):
            raise ValueError("a static profile needs username and password (or password_file)")
        return self

    def static_password(self) -> str:
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        return self.password or ""


class Module(Strict):
    """One ``module=`` value of ``/probe``."""

    prober: Prober = Field(description="stream, recorder, device, link or inventory.")
    credentials: str = Field(default="vault", description="Name of a credential profile.")
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="Upper bound; the scrape timeout may cut it.")
    stream: Literal["main", "sub"] = Field(
        default="sub", description="stream: which stream (sub spares the household uplink)."
    )
    measure_s: float = Field(
        default=1.0, ge=0, le=10, description="stream: seconds counted after the keyframe for fps and bitrate."
    )
    frames: int = Field(default=1, ge=1, le=10, description="stream: complete keyframes that must arrive.")
    wireguard: bool = Field(
        default=False, description="link: log in over SSH and read WireGuard peers' last handshake."
    )
    services: bool = Field(default=True, description="device: read P2P/UPnP/telnet/SSH switches (cameras).")
    coverage: bool = Field(
        default=False, description="inventory: the routes' coverage by the cameras up now, instead of camera facts."
    )
    up_within_s: float = Field(
        default=60.0,
        gt=0,
        description="coverage: a camera is up if its last stream probe, at most this old, saw frames.",
    )
    search_every_s: float = Field(
        default=600.0,
        ge=0,
        le=86400,
        description="recorder: how often each channel's recordings are searched again for the oldest and newest "
        "(the heaviest part of the probe; retention moves by minutes a day). 0: every probe.",
    )
    sd: bool = Field(default=True, description="List this module's targets in /sd without ?module=.")


class ExporterConfig(Strict):
    """The whole file."""

    credentials: dict[str, CredentialProfile] = Field(
        default_factory=lambda: {"vault": CredentialProfile()}, description="Credential profiles by name."
    )
    modules: dict[str, Module] = Field(description="Modules by name (the ?module= value).")
    vault_password_file: Path | None = Field(
        default=None, description="Vault password file; default $CAMFLEET_VAULT_PASSWORD_FILE or the demo file."
    )
    scrape_timeout_margin_s: float = Field(
        default=0.5,
        ge=0,
        le=5,
        description="Kept back from Prometheus' scrape timeout for rendering and network (blackbox_exporter: 0.5 s).",
    )
    default_timeout_s: float = Field(default=10.0, gt=0, description="Budget when no scrape timeout header is sent.")
    reload_interval_s: float = Field(default=2.0, gt=0, description="How often inventory files are checked.")
    head_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="A request's head (and a TLS handshake) must arrive within this, or the connection is closed.",
    )
    idle_timeout_s: float = Field(
        default=75.0, gt=0, le=3600, description="An idle kept-alive connection is closed after this."
    )

    @model_validator(mode="after")
    def _profiles_exist(self) -> ExporterConfig:
        for name, module in self.modules.items():
            if module.credentials not in self.credentials:
                known = ", ".join(sorted(self.credentials))
                raise ValueError(f"modules.{name}.credentials: no profile {module.credentials!r} (known: {known})")
        return self


def load_config(path: Path | str) -> ExporterConfig:
    """Read and validate the config file; :class:`ConfigError` with one line saying what to fix."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not YAML: {str(exc).splitlines()[0]}") from None
    try:
        config = ExporterConfig.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    for profile in config.credentials.values():
        if profile.password_file is not None and not profile.password_file.is_absolute():
            profile.password_file = path.parent / profile.password_file
    return config
