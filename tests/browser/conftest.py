"""Fixtures of the browser tests: ``evfleet demo`` in a subprocess, Debian's Chromium
driven by Playwright, and screenshots into ``test-artifacts/browser/``.

The demo (SQLite in its own folder, the planning worker, the dashboard, the simulator
posting HTTP telemetry) runs once for the module on a free port. Without Chromium, the
``playwright`` package or the built dashboard bundle the tests skip on a developer machine
and fail under ``CI`` (see ``browser_support.unavailable``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    Demo,
    Shots,
    slug,
    unavailable,
)

SPEEDUP = 240.0
"""Simulated s per wall s: a van passes several stops a minute of test time."""
START_TIMEOUT_S = 120.0
"""How long the demo may take to load, plan (``--time-limit 5``) and dispatch the day."""


# ----------------------------------------------------------------------------- the demo


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _read(process: subprocess.Popen[str], lines: list[str], ready: threading.Event) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("simulating "):
            ready.set()
    ready.set()  # it ended: the waiter looks at the exit code


def _stop(process: subprocess.Popen[str]) -> None:
    """Ctrl-C (uvicorn and the planning worker shut down), then terminate, then kill."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(15)
        return
    except subprocess.TimeoutExpired:
        process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _wait_for_the_fleet(demo: Demo, headers: dict[str, str], timeout_s: float = 30.0) -> int:
    """Until every van of the fleet has a live position (the demo drives the planned
    routes and has the vans left at home report from their depot). Returns how many."""
    fleet = demo.api.get("/vehicles", params={"limit": 500}, headers=headers).json()["total"]
    deadline = time.monotonic() + timeout_s
    while True:
        live = len(demo.api.get("/live/vehicles", headers=headers).json()["items"])
        if live >= fleet:
            return live
        if time.monotonic() > deadline:
            pytest.fail(f"only {live} of the {fleet} vans report after {timeout_s:.0f} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``evfleet demo`` on a free port: the Munich day planned, dispatched and driven at
    240×, every van of the fleet reporting."""
    from evfleet.web import STATIC_DIR

    if not (STATIC_DIR / "index.html").is_file():
        unavailable(f"the dashboard is not built ({STATIC_DIR}); run scripts/build_web.sh")
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("evfleet-demo")
    executable = Path(sys.executable).with_name("evfleet")
    command = [str(executable)] if executable.is_file() else [sys.executable, "-m", "evfleet"]
    command += ["demo", "--port", str(port), "--speedup", f"{SPEEDUP:g}", "--time-limit", "5"]
    # --stop-after: a safety net, should this process die without stopping it.
    command += ["--stop-after", "900", "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=data_dir,
    )
    base = f"http://127.0.0.1:{port}"
    demo = Demo(base, data_dir, process, httpx.Client(base_url=f"{base}/api/v1", timeout=30.0))
    ready = threading.Event()
    threading.Thread(target=_read, args=(process, demo.lines, ready), daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT_S) or process.poll() is not None:
            pytest.fail(
                f"evfleet demo did not start simulating within {START_TIMEOUT_S:.0f} s "
                f"(exit code {process.poll()}):\n{demo.output()}",
                pytrace=False,
            )
        demo.vans = _wait_for_the_fleet(demo, {"Authorization": f"Bearer {demo.login()}"})
        yield demo
    finally:
        demo.api.close()
        _stop(process)


# ----------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian's package (never a downloaded one)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.is_file():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module", autouse=True)
def _artifacts() -> None:
    """Old screenshots would pass for new ones: the folder is emptied once per module."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


_CALL = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_CALL] = report
    return report


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught script errors of the test's page (the tests assert there are none)."""
    return []


@pytest.fixture
def page(
    browser: Any, demo: Demo, request: pytest.FixtureRequest, page_errors: list[str]
) -> Iterator[Any]:
    """A fresh browser context (no login) and page, 1280×800, on the demo's origin; a
    screenshot ``<test>--failed.png`` when the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=demo.base)
    context.set_default_timeout(15_000)
    new = context.new_page()
    new.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        yield new
        report = request.node.stash.get(_CALL, None)
        if report is not None and report.failed:
            with contextlib.suppress(Exception):  # the page may be gone; the failure shows
                new.screenshot(path=str(ARTIFACTS / f"{slug(request.node.name)}--failed.png"))
    finally:
        context.close()


@pytest.fixture
def shot(page: Any, request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name, page)
