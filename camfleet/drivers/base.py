"""The one interface every camera and recorder driver offers, the typed results, and the shared
"read current → diff → write only what differs, unless check mode" engine.

Why hooks and not a big base class (house style, netmiko): a device family is a small class
that fills in a few hooks — ``read_config``, ``fit`` and one writer per resource — and the base
keeps what must behave the same everywhere: one call applies a device's whole desired config
(Ansible's per-task cost is the bottleneck), check mode writes nothing, the diff never shows a
secret, and "the device came back" is waited for the same way.

Reproduce by hand (a simulated camera on 127.77.0.10)::

    .venv/bin/python -c "from camfleet.drivers import driver_class; \\
        d = driver_class('hikvision_isapi')('cam-01-t01', '127.77.0.10', 80, 'admin', '<password>'); \\
        print(d.facts()); print(d.read_config())"
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar, NamedTuple, Self

from camfleet.drivers.desired import DesiredConfig, diff
from camfleet.drivers.errors import DeviceTimeout, DriverError, Unreachable, Unsupported
from camfleet.drivers.http import DeviceSession

Progress = Callable[[int], None]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Facts:
    """Who the device is. On a factory-fresh device only ``vendor`` and ``activated=False`` are known.

    ``firmware`` is written the way the inventory's firmware catalogue writes builds
    (``V5.7.15 build 230519``, ``V2.840.0000000.11.R.230412``); ``build_date`` is its date.
    """

    vendor: str
    activated: bool
    model: str | None = None
    serial: str | None = None
    mac: str | None = None
    firmware: str | None = None
    build_date: dt.date | None = None
    device_name: str | None = None
    device_type: str | None = None


@dataclass(frozen=True)
class ConfigChange:
    """Result of :meth:`ConfigurableCamera.apply_config` (the Ansible module's ``changed``/``diff``).

    ``written`` names the resources written (or, in check mode, that would be written).
    """

    changed: bool
    before: dict[str, Any]
    after: dict[str, Any]
    diff_lines: tuple[str, ...]
    written: tuple[str, ...] = ()
    check: bool = False
    reboot_required: bool = False
    #: Managed fields the device cannot hold (e.g. ``masks`` on a camera without privacy masks): left out
    #: of the diff and never written; ``notes`` says, one line each, what the inventory wanted there.
    unsupported: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class User:
    """A device login; ``level`` is administrator, operator or viewer."""

    id: int
    name: str
    level: str


@dataclass(frozen=True)
class LoginLock:
    """The lock-out after refused logins (Hikvision ``illegalLoginLock``, Dahua ``General.LockLogin*``):
    ``enabled`` False never locks; ``max_failures`` None when the device does not say."""

    enabled: bool
    max_failures: int | None = None
    lock_s: float | None = None


@dataclass(frozen=True)
class UpgradeStatus:
    """Firmware upgrade state: idle, upgrading, succeeded, failed; ``percent`` 0..100.

    After :meth:`Driver.firmware_upload`: ``reboot_required`` (Hikvision: call ``reboot()``) or
    ``rebooting`` (Dahua reboots by itself).
    """

    state: str
    percent: int = 0
    reboot_required: bool = False
    rebooting: bool = False


@dataclass(frozen=True)
class DeviceClock:
    """The device's clock: its idea of now (aware, UTC), its UTC offset, and how far it is from ours."""

    device_utc: dt.datetime
    utc_offset_s: int
    skew_s: float


@dataclass(frozen=True)
class Channel:
    """An NVR IP-camera channel as the NVR has it (the password is write-only and never read)."""

    number: int
    name: str
    address: str
    port: int
    protocol: str
    username: str


@dataclass(frozen=True)
class ChannelState:
    """Live state of an NVR channel; None where the device does not say."""

    online: bool | None
    recording: bool | None
    detail: str | None = None


@dataclass(frozen=True)
class ChannelIdentity:
    """Which device a recorder channel really pulls, as the recorder learnt it from that device when it
    connected (serial, MAC, model); None where the recorder does not say."""

    number: int
    serial: str | None = None
    mac: str | None = None
    model: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Disk:
    """A recorder's storage: a local disk or a network volume; bytes, ``status`` as the device words it
    (ok, error, unformatted, ...), ``kind`` (``sata``, ``sd``, ``nas``, ...) and for a network volume its
    ``source`` (``192.168.0.1:/pub/hik (SMB/CIFS)``)."""

    slot: int
    capacity_bytes: int
    free_bytes: int
    status: str
    property: str | None = None
    kind: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Recording:
    """One recording file of a recorder channel: its span (aware UTC) and what the recorder needs to
    hand it out (Hikvision: the search's ``playbackURI``; Dahua: the file path)."""

    channel: int
    start: dt.datetime
    end: dt.datetime
    handle: str
    name: str = ""
    size_bytes: int | None = None
    container: str = "ps"  # ps (Hikvision program stream), dav (Dahua), mp4
    locked: bool | None = None


class RecordingRange(NamedTuple):
    """Oldest start and newest end of a channel's footage (None, None when there is none);
    unpacks as ``oldest, newest = nvr.search_recordings(1)``.
    """

    oldest: dt.datetime | None
    newest: dt.datetime | None


# --------------------------------------------------------------------------- the interface


class Driver(abc.ABC):
    """What every device driver offers. Construct from connection parameters or from the inventory.

    Use as a context manager (or call :meth:`close`) to release the keep-alive connection.
    """

    #: Name in the inventory's ``device.driver`` and :data:`camfleet.drivers.KNOWN_DRIVERS`.
    name: ClassVar[str]
    vendor: ClassVar[str]

    def __init__(
        self,
        device_id: str,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        timeout: float = 5.0,
        scheme: str = "http",
        verify: bool | str = True,
    ) -> None:
        if scheme not in ("http", "https"):
            raise ValueError(f"{device_id}: scheme must be http or https, not {scheme!r}")
        self.device_id = device_id
        self.host = host
        self.port = port
        self.username = username
        self.timeout = timeout
        self._password = password
        host_part = f"[{host}]" if ":" in host else host
        self.session = DeviceSession(
            device_id, f"{scheme}://{host_part}:{port}", username, password, timeout=timeout, verify=verify
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.device_id!r}, {self.host!r}, {self.port})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _set_password(self, password: str) -> None:
        self._password = password
        self.session.set_password(password)

    # ----------------------------------------------------------------- identity and access

    @abc.abstractmethod
    def facts(self) -> Facts: ...

    @abc.abstractmethod
    def activation_status(self) -> bool:
        """True if the device has an admin password (asked without credentials)."""

    @abc.abstractmethod
    def activate(self, password: str) -> bool:
        """Give a factory-fresh device its admin password; False if it was already activated.

        The driver uses ``password`` from then on.
        """

    @abc.abstractmethod
    def users(self) -> list[User]: ...

    @abc.abstractmethod
    def set_password(self, user: str, new: str) -> None:
        """Change ``user``'s password; if it is the driver's own login, the driver switches to it."""

    def set_user_password(self, user: str, new: str, old: str) -> None:
        """Change another login's password through this (administrator's) session. ``old`` is the
        password it has now: some firmware wants it (Dahua's ``modifyPassword``), most do not.
        """
        self.set_password(user, new)

    @abc.abstractmethod
    def add_user(self, name: str, password: str, level: str = "viewer") -> User: ...

    def login_lock(self) -> LoginLock:
        """How many refused logins lock the device out, read with this login (an audit that tries a
        password checks it first); Unsupported where the family cannot say."""
        raise Unsupported(self.device_id, "the lock-out policy cannot be read from this device family")

    # ----------------------------------------------------------------- maintenance

    @abc.abstractmethod
    def time(self) -> DeviceClock: ...

    @abc.abstractmethod
    def reboot(self) -> None: ...

    @abc.abstractmethod
    def snapshot(self) -> bytes:
        """A JPEG from the main stream (NVRs: channel 1; see their ``snapshot(channel)``)."""

    @abc.abstractmethod
    def firmware_upload(self, data: bytes, progress: Progress | None = None) -> UpgradeStatus:
        """Upload and flash ``data``; returns once flashed (see :class:`UpgradeStatus`)."""

    @abc.abstractmethod
    def firmware_status(self) -> UpgradeStatus: ...

    @abc.abstractmethod
    def config_export(self) -> bytes: ...

    def wait_online(self, timeout_s: float = 120.0, poll_s: float = 1.0) -> Facts:
        """Poll :meth:`facts` until the device answers (after a reboot); Unreachable if it does not.

        Only transport failures are waited out: a refused password raises at once.
        """
        deadline = time.monotonic() + timeout_s
        last: DriverError | None = None
        while True:
            try:
                return self.facts()
            except (Unreachable, DeviceTimeout) as err:
                last = err
            if time.monotonic() + poll_s > deadline:
                raise Unreachable(
                    self.device_id, f"did not come back within {timeout_s:g} s", last.message if last else None
                )
            time.sleep(poll_s)


class ConfigurableCamera(Driver):
    """A camera whose managed settings (:class:`DesiredConfig`) the driver reads and writes.

    Families implement :meth:`read_config`, :meth:`fit` and :meth:`write`; the base runs the engine.
    A family whose device turns out not to have a managed setting names the field in
    :attr:`unsupported` while reading (the audit then reports it instead of failing).
    """

    #: Fields of :class:`DesiredConfig` the device cannot hold, as :meth:`read_config` found; a part of
    #: one is dotted (``main.average_kbps``: a camera with H.265+ but no average bitrate to set).
    unsupported: tuple[str, ...] = ()

    @abc.abstractmethod
    def read_config(self) -> DesiredConfig:
        """The managed settings as the device has them now."""

    def fit(self, desired: DesiredConfig) -> DesiredConfig:
        """``desired`` as this device can hold it (server count, mask grid, ...). Called after
        :meth:`read_config`, so it may use what the read learnt (e.g. the mask frame size).
        """
        return desired

    @abc.abstractmethod
    def write(self, resource: str, before: DesiredConfig, after: DesiredConfig) -> bool:
        """Write one field of :data:`camfleet.drivers.desired.FIELDS` that differs; True if the
        device asked for a reboot.
        """

    def apply_config(self, desired: DesiredConfig, check: bool = False) -> ConfigChange:
        """Read the device, diff against ``desired``, write only the fields that differ (not in check mode)."""
        current = self.read_config()
        wanted = self.fit(desired)
        notes = []
        for name in self.unsupported:
            if _field(wanted, name) != _field(current, name):
                notes.append(f"{name}: not supported by this device; the inventory's value is not applied")
            wanted = _with_field(wanted, name, _field(current, name))
        delta = diff(current, wanted)
        reboot = False
        if not check:
            for resource in delta.changed:
                reboot = self.write(resource, current, wanted) or reboot
        return ConfigChange(
            changed=bool(delta.changed),
            before=delta.before,
            after=delta.after,
            diff_lines=delta.lines,
            written=delta.changed,
            check=check,
            reboot_required=reboot,
            unsupported=self.unsupported,
            notes=tuple(notes),
        )


def _field(config: Any, name: str) -> Any:
    """``name`` of ``config``, dotted for a part of one (``main.average_kbps``); None under a part that is None."""
    for part in name.split("."):
        if config is None:
            return None
        config = getattr(config, part)
    return config


def _with_field(config: Any, name: str, value: Any) -> Any:
    """``config`` with ``name`` (dotted for a part of one) set to ``value``; a part that is None stays None."""
    head, _, rest = name.partition(".")
    if not rest:
        return dataclasses.replace(config, **{head: value})
    part = getattr(config, head)
    return config if part is None else dataclasses.replace(config, **{head: _with_field(part, rest, value)})


class RecorderDriver(Driver):
    """An NVR: camera channels, schedules, disks and footage search."""

    @abc.abstractmethod
    def protocol_for(self, vendor: str) -> str:
        """The protocol this recorder pulls a camera of ``vendor`` with (what :meth:`set_channel` takes)."""

    @abc.abstractmethod
    def channels(self) -> list[Channel]: ...

    @abc.abstractmethod
    def set_channel(
        self,
        n: int,
        address: str,
        port: int,
        username: str,
        password: str,
        name: str,
        *,
        protocol: str = "HIKVISION",
        rewrite_password: bool = False,
    ) -> bool:
        """Make channel ``n`` record this camera; True if anything was written.

        The NVR never returns channel passwords, so by default (like Ansible's ``user`` module
        with ``update_password: on_create``) an existing channel's password is left alone;
        ``rewrite_password=True`` writes it on every call (and reports a change).
        """

    @abc.abstractmethod
    def delete_channel(self, n: int) -> bool: ...

    @abc.abstractmethod
    def channel_status(self) -> dict[int, ChannelState]: ...

    def channel_identities(self) -> dict[int, ChannelIdentity]:
        """Channel → the device it records, as the recorder reports it; {} where it does not say."""
        return {}

    @abc.abstractmethod
    def recording_schedule(self, n: int) -> str:
        """continuous, event or none."""

    @abc.abstractmethod
    def set_recording_schedule(self, n: int, continuous: bool = True) -> bool: ...

    @abc.abstractmethod
    def disks(self) -> list[Disk]: ...

    @abc.abstractmethod
    def format_disk(self, slot: int) -> None: ...

    def overwrite(self) -> bool | None:
        """Whether full disks overwrite the oldest footage (off: recording stops when they fill);
        None where this driver cannot read it."""
        return None

    def set_overwrite(self, on: bool) -> None:
        """Switch overwrite of the oldest footage on or off; Unsupported where the driver cannot."""
        raise Unsupported(self.device_id, "this driver cannot switch the recorder's overwrite")

    @abc.abstractmethod
    def search_recordings(self, channel: int) -> RecordingRange: ...

    @abc.abstractmethod
    def find_footage(self, channel: int, start: dt.datetime, end: dt.datetime) -> list[Recording]:
        """Every recording file of ``channel`` overlapping ``[start, end)`` (aware times), sorted by start."""

    @abc.abstractmethod
    def download_footage(
        self, recording: Recording, sink: BinaryIO, *, within: tuple[dt.datetime, dt.datetime] | None = None
    ) -> Recording:
        """Write a recording to ``sink`` as it arrives (never all in memory): only its part ``within`` a
        window where the recorder downloads by time, else the whole file. Returns what was delivered
        (its span, and its size in ``size_bytes``)."""

    def lock_footage(self, channel: int, start: dt.datetime, end: dt.datetime) -> None:
        """Protect ``[start, end)`` of ``channel`` from overwrite; Unsupported where the device offers no such call."""
        raise Unsupported(self.device_id, "this recorder offers no call that locks recordings against overwrite")
