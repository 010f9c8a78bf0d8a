"""Load, validate and query a town's inventory folder: the one loader everything uses."""

from camfleet.inventory.fleet import Fleet, Origin
from camfleet.inventory.loader import LoadResult, inventory_files, load, load_fleet
from camfleet.inventory.problems import InventoryError, Problem, Severity

__all__ = [
    "Fleet",
    "InventoryError",
    "LoadResult",
    "Origin",
    "Problem",
    "Severity",
    "inventory_files",
    "load",
    "load_fleet",
]
