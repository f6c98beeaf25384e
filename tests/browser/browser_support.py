"""Shared by the browser tests and their fixtures (``conftest.py``): where Chromium is, how
it is started, the running demo, screenshots, and a bounded polling wait."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import httpx
import pytest

from evfleet.demo import DEMO_DRIVER, DEMO_EMAIL, DEMO_PASSWORD

__all__ = [
    "ARTIFACTS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "DEMO_DRIVER",
    "DEMO_EMAIL",
    "DEMO_PASSWORD",
    "Demo",
    "Shots",
    "unavailable",
    "wait_until",
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("EVFLEET_CHROMIUM", "/usr/bin/chromium"))
"""Debian's Chromium; browsers are never downloaded (no ``playwright install``)."""
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # The machine is offline: no update checks, field trials, sync or first-run pages.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
]

T = TypeVar("T")


def required() -> bool:
    """Whether the browser tests must run: in CI (``CI=true``, or ``.ci/run``, which sets
    ``EVFLEET_REQUIRE_BROWSER=1``)."""
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get("EVFLEET_REQUIRE_BROWSER", "") == "1"
    )


def unavailable(reason: str) -> NoReturn:
    """Skips on a developer machine; fails where the browser tests are required (CI), so
    that a CI job cannot pass with them silently gone."""
    if required():
        pytest.fail(f"the browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


@dataclass
class Demo:
    """The running ``evfleet demo``: its base URL, an API client and what it printed."""

    base: str
    data_dir: Path
    process: subprocess.Popen[str]
    api: httpx.Client
    lines: list[str] = field(default_factory=list)
    vans: int = 0
    """Vans with a live position: the driven routes and the vans parked at the depot."""

    def login(self, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> str:
        """A login token (``POST /auth/token``, form ``username``/``password``)."""
        answer = self.api.post("/auth/token", data={"username": email, "password": password})
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        return token

    def output(self) -> str:
        return "\n".join(self.lines[-40:])


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


class Shots:
    """Screenshots of a test's page into ``test-artifacts/browser/``: ``<test>.png`` (no
    step) and ``<test>--<step>.png``."""

    def __init__(self, name: str, page: Any) -> None:
        self.name = slug(name)
        self.page = page
        self.taken: list[Path] = []

    def __call__(self, step: str | None = None, page: Any = None) -> Path:
        name = self.name if step is None else f"{self.name}--{slug(step)}"
        path = ARTIFACTS / f"{name}.png"
        (page or self.page).screenshot(path=str(path))
        self.taken.append(path)
        return path


def wait_until(check: Callable[[], T], timeout_s: float, page: Any, every_ms: int = 250) -> T:
    """Polls ``check()`` until it returns something truthy, or ``timeout_s`` passes;
    returns its last value. Waits on the page's clock, so that Playwright keeps serving
    the page's events meanwhile."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        page.wait_for_timeout(every_ms)
