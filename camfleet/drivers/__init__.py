"""Device drivers: one class per device family behind one interface (built in the devices issue).

Until then this module names the drivers, so the inventory can say which one
each device needs and an unknown override is caught at validation.
"""

from __future__ import annotations

from camfleet.model import Vendor

#: Camera driver per vendor; vendors without one are cameras camfleet cannot administer.
CAMERA_DRIVERS: dict[Vendor, str] = {
    Vendor.hikvision: "hikvision_isapi",
    Vendor.dahua: "dahua_cgi",
    Vendor.kbvision: "dahua_cgi",  # KBVision cameras are Dahua OEM builds
}
RECORDER_DRIVERS: dict[Vendor, str] = {
    Vendor.hikvision: "hikvision_isapi_nvr",
}
KNOWN_DRIVERS = frozenset(CAMERA_DRIVERS.values()) | frozenset(RECORDER_DRIVERS.values())
