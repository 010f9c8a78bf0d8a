"""``python -m camfleet.cli``: the ``camfleet`` command (the simulator re-executes itself this way)."""

import sys

from camfleet.cli import main

sys.exit(main())
