"""Reading a benchmark text file as lines, with errors that name the file and line."""

from __future__ import annotations

import math
from pathlib import Path

from evfleet.errors import InputError


def read_lines(path: Path) -> list[str]:
    """The file's lines with line endings and surrounding blanks removed.

    Raises :class:`~evfleet.errors.InputError` for a file that cannot be read or is not
    UTF-8 text (naming the line of the first bad byte).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("not a text file (invalid UTF-8)", path=str(path), line=line) from exc
    return [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def finite_float(token: str) -> float | None:
    """``token`` as a finite float, or ``None`` when it is not one."""
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
