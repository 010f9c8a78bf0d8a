"""camfleet: infrastructure-as-code and fleet management for a town's security-camera network."""

__version__ = "0.1.0"
