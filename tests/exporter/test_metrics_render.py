"""A probe's series are rendered by the exporter itself, exactly as prometheus_client would.

No sockets. ``Metrics.render`` replaces a fresh ``CollectorRegistry`` + ``generate_latest`` per
request (a sixth of the exporter's CPU in a burst, ``bench/exporter.py``), so its output is
pinned to theirs byte for byte, escaping and float formatting included.

    .venv/bin/pytest tests/exporter/test_metrics_render.py -q
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from camfleet.exporter.probers.base import Metrics


def test_metrics_render_is_what_prometheus_client_writes() -> None:
    """Byte for byte what ``generate_latest`` writes for the same gauges, and still a registry collector."""
    registry = CollectorRegistry(auto_describe=False)
    out = Metrics(registry)
    out.gauge("camfleet_probe_success", 'A help with \\ and "quotes"\nand a newline.', True)
    out.gauge("camfleet_stream_info", "Codec.", 1, codec="h264", stream="sub")
    out.gauge("camfleet_stream_info", "Codec.", 0, codec='we"ird\\label\nvalue', stream="ý")
    for i, v in enumerate((0.000123, 1e21, 12345678.9, float("inf"), float("-inf"), float("nan"), -0.0, 640)):
        out.gauge("camfleet_values", "Values.", v, i=str(i))
    assert out.render() == generate_latest(registry)
    assert registry.get_sample_value("camfleet_stream_info", {"codec": "h264", "stream": "sub"}) == 1
