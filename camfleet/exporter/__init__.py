"""The camfleet exporter: one asyncio process that proves video flows, multi-target like blackbox_exporter.

``/probe?target=<device id>&module=<module>`` runs one prober (:mod:`camfleet.exporter.probers`)
against one device of the inventory, ``/sd`` tells Prometheus which devices and modules exist,
``/metrics`` is the exporter's own health. Modules and credentials: ``exporters/camfleet.yml``.

    .venv/bin/camfleet exporter --config exporters/camfleet.yml --inventory inventory/ngoc-lac
"""
