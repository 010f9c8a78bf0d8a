"""Problems found in an inventory, each pointing at a file, a line and a field."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

#: A path into a YAML document: mapping keys and sequence indexes.
DocPath = tuple[str | int, ...]


class Severity(StrEnum):
    error = "error"
    warning = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong, as ``file:line: field: message``.

    ``path`` is where in the document the problem is; the loader turns it into
    ``line`` once, after every check has run, so checks never touch YAML nodes.
    """

    file: Path
    line: int | None
    field: str
    message: str
    severity: Severity = Severity.error
    path: DocPath = dataclasses.field(default=(), compare=False, repr=False)

    def __str__(self) -> str:
        where = _display(self.file)
        if self.line is not None:
            where = f"{where}:{self.line}"
        prefix = "warning: " if self.severity is Severity.warning else ""
        return f"{where}: {self.field}: {prefix}{self.message}"


def _display(path: Path) -> str:
    """The path relative to the working directory when that is shorter."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if len(rel) < len(str(path)) else str(path)


class InventoryError(Exception):
    """The inventory has errors; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity is Severity.error]
        super().__init__(f"{len(errors)} inventory error(s):\n" + "\n".join(str(p) for p in errors))
