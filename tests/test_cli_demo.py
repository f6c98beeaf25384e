"""``evfleet demo``'s user errors: a clear message, exit code 2, no traceback. (The demo
itself runs in the browser tests, tests/browser/.)"""

from __future__ import annotations

import socket

from typer.testing import CliRunner

from evfleet.cli import app

runner = CliRunner()


def test_a_bad_speedup_is_refused() -> None:
    result = runner.invoke(app, ["demo", "--speedup", "0"])
    assert result.exit_code == 2
    assert "--speedup must be > 0" in result.output
    assert "Traceback" not in result.output


def test_a_taken_port_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["demo", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port" in result.output
