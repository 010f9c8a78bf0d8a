"""Run a benchmark on an earlier commit and on this tree, one after the other in one run.

A refactoring must leave the figures unchanged within noise; measured hours apart on a shared
machine they cannot be compared. This runs ``bench/<script>`` first in a throw-away checkout of
``--base`` (a ``git worktree``, with this tree's ``.venv`` and ``PYTHONPATH`` pointing at that
checkout, so the older camfleet, collection and playbooks are what runs) and then here, and prints
both reports under each other, ``--rounds`` times alternating.

    .venv/bin/python bench/before_after.py --base HEAD bench/playbooks.py -- --cameras 500
    .venv/bin/python bench/before_after.py --base HEAD bench/exporter.py -- --soak 0
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(tree: Path, script: str, args: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(tree / script), *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if out.returncode != 0:
        sys.exit(f"{script} failed in {tree}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="the commit to compare with (default HEAD)")
    parser.add_argument("--rounds", type=int, default=1, help="before/after pairs to run (default 1)")
    parser.add_argument("script", help="a benchmark of bench/, e.g. bench/playbooks.py")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments, after --")
    ns = parser.parse_args()
    args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args
    base = subprocess.run(
        ["git", "rev-parse", "--short", ns.base], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="camfleet-before-") as tmp:
        before = Path(tmp) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(before), base], cwd=ROOT, check=True, capture_output=True
        )
        try:
            (before / ".venv").symlink_to(ROOT / ".venv")
            for n in range(1, ns.rounds + 1):
                for label, tree in ((f"before ({base})", before), ("after (this tree)", ROOT)):
                    print(f"===== round {n}, {label}: {ns.script} {' '.join(args)}", flush=True)
                    print(run(tree, ns.script, args), flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
