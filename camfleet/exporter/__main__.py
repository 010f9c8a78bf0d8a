"""``python -m camfleet.exporter``: the exporter without the ``camfleet`` CLI (same options)."""

from __future__ import annotations

import argparse
import sys

from camfleet.exporter.commands import add_arguments, cmd_exporter


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m camfleet.exporter", description=__doc__)
    add_arguments(parser)
    return cmd_exporter(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
