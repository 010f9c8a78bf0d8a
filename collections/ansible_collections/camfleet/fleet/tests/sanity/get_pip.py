# Copyright: camfleet contributors
# Apache License 2.0
"""Stand-in for the get-pip.py that ansible-test downloads from ci-files.testing.ansible.com.

Why: ansible-test creates each sanity test's virtual environment without pip and bootstraps pip with
a get-pip.py it fetches from ci-files.testing.ansible.com; only PyPI is reachable from our CI. This
script does the same job with what is at hand: it runs the pip wheel bundled with Python's own
``ensurepip`` to install the pip ansible-test asks for (``pip==24.2``) from PyPI. ``make sanity``
copies it to where ansible-test looks for its cached download::

    mkdir -p .venv/ansible-test/.ansible/test/cache
    cp collections/ansible_collections/camfleet/fleet/tests/sanity/get_pip.py \\
        .venv/ansible-test/.ansible/test/cache/get_pip_24_2.py

ansible-test runs it as ``python get_pip_24_2.py pip==24.2 --no-setuptools --no-wheel`` inside the
new environment; get-pip's own ``--no-setuptools``/``--no-wheel`` mean "install only pip", which is
all this script ever installs.
"""

from __future__ import annotations

import ensurepip
import glob
import os
import runpy
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main() -> None:
    bundled = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl"))
    if not bundled:
        sys.exit(f"{sys.executable} has no pip wheel in ensurepip/_bundled; install python3-venv or a full CPython")
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    sys.path.insert(0, bundled[0])
    sys.argv = ["pip", "install", *args]
    runpy.run_module("pip", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
