"""Probes that check a device from the outside, the way the exporter sees it.

- :mod:`camfleet.probes.rtsp`: :func:`~camfleet.probes.rtsp.probe_stream` proves
  video really flows from an RTSP URL (complete keyframe inside a time budget,
  codec, resolution, measured fps and bitrate) at about 1/100 of ffprobe's CPU;
  it never raises for device misbehaviour and says why in ``StreamResult.reason``.
- :mod:`camfleet.probes.h264`: picture size from H.264/H.265 sequence parameter sets.
- :mod:`camfleet.probes.ssh`: :func:`~camfleet.probes.ssh.ssh_banner`, is an SSH server there (no login).

Import from the submodules; this package imports nothing, so
``python -m camfleet.probes.rtsp`` runs cleanly::

    .venv/bin/python -m camfleet.probes.rtsp rtsp://127.0.0.9:8554/Streaming/Channels/102 -u admin -p Passw0rd-1
"""
