"""Build hook: bundle the dashboard (web/) into the package when a wheel or sdist is built.

The project's metadata lives in pyproject.toml; this file only adds one step. Building a
wheel (``pip install .``, ``python -m build``) or an sdist runs ``scripts/build_web.sh`` when
``src/evfleet/web/static/index.html`` is missing, so that the installed package serves the
dashboard offline. Editable installs (``pip install -e .``) skip it: ``scripts/_venv.sh``
builds the bundle in the source tree, where an editable install reads it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
BUNDLE = ROOT / "src" / "evfleet" / "web" / "static" / "index.html"
BUILD_SCRIPT = ROOT / "scripts" / "build_web.sh"


def build_web() -> None:
    """Runs scripts/build_web.sh unless the bundle exists (or there is nothing to build)."""
    if BUNDLE.is_file() or not BUILD_SCRIPT.is_file() or not (ROOT / "web").is_dir():
        return
    subprocess.run(["bash", str(BUILD_SCRIPT)], cwd=ROOT, check=True)


class BuildPyWithWeb(build_py):
    def run(self) -> None:
        if not getattr(self, "editable_mode", False):
            build_web()
        super().run()


class SdistWithWeb(sdist):
    def run(self) -> None:
        build_web()
        super().run()


setup(cmdclass={"build_py": BuildPyWithWeb, "sdist": SdistWithWeb})
