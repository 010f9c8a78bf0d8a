"""Desired state rendered from the inventory: camera baseline, RouterOS links, Prometheus, Grafana."""
