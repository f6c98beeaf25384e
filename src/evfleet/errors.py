"""Errors that carry what the user needs to fix their input."""

from __future__ import annotations


class EvfleetError(Exception):
    """Base class of evfleet's own errors."""


class InputError(EvfleetError):
    """Input that cannot be read: names the file, the line (1-based) and what was expected."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class UnservableClientsError(EvfleetError):
    """Some clients cannot be served by any vehicle; ``reasons`` maps client name to why."""

    def __init__(self, reasons: dict[str, str]) -> None:
        self.reasons = reasons
        lines = [f"  {name}: {why}" for name, why in reasons.items()]
        super().__init__(
            f"{len(reasons)} client(s) cannot be served by any vehicle:\n" + "\n".join(lines)
        )


class RoadNetworkError(EvfleetError):
    """A road network could not be used: a missing extract, points off its roads, a server
    that does not answer. The message names the network and the point or request."""
