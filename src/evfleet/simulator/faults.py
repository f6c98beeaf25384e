"""Fault injection: what goes wrong between a van and the service (pure, seeded).

A van's clean stream (in order, ``seq`` 1, 2, 3, ...) becomes a list of :class:`Delivery`:
what is sent when. Each fault has a rate and is drawn per van from its own random stream:

* **dropout** (``dropout=p``, ``dropout-s=S``): at each fix, with probability ``p``, the van
  goes silent for a period drawn uniformly from ``[S/2, 3S/2]`` (s of simulated time; default
  S = 120 s). Fixes taken while silent are lost (their ``seq`` numbers leave a gap).
* **duplicate** (``duplicate=p``): each message is sent a second time, with probability ``p``,
  after 0 to ``reorder-window`` further messages (same ``seq``, same content: a QoS 1 or HTTP
  retry).
* **reorder** (``reorder=p``, ``reorder-window=W``, default 3): each message, with
  probability ``p``, is held back behind the next 1 to ``W`` messages.
* **low battery** (``low-battery=VAN``, repeatable; ``low-battery-soc=PCT``, default 5 %):
  the van drains faster, by the factor that brings its lowest state of charge to ``PCT``
  (below the tracker's 10 % reserve); applied by the fleet simulator, see
  :func:`low_battery_drain`.

A message is never sent before its fix time: a delivery's ``send_s`` is the largest fix time
among the messages sent up to it. Faults leave the van's ``seq`` numbering alone: dropouts
make gaps, duplicates repeat a ``seq``, reordering makes it go back.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from evfleet.errors import EvfleetError
from evfleet.telemetry import TelemetryMessage

__all__ = [
    "Delivery",
    "FaultLog",
    "FaultSettings",
    "FaultSpecError",
    "apply_faults",
    "low_battery_drain",
    "parse_faults",
]


class FaultSpecError(EvfleetError):
    """A ``--faults`` text that cannot be read; the message names the entry."""


@dataclass(frozen=True)
class FaultSettings:
    """Fault rates (probabilities per message, 0..1) and options (see the module docstring).

    ``dropout_s``: mean silent period, s; ``reorder_window``: the most messages a held-back
    or duplicated message is sent behind; ``low_battery``: vehicle ids that drain faster;
    ``low_battery_soc_pct``: their lowest state of charge, %.
    """

    dropout: float = 0.0
    dropout_s: float = 120.0
    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_window: int = 3
    low_battery: frozenset[str] = field(default_factory=frozenset)
    low_battery_soc_pct: float = 5.0

    def __post_init__(self) -> None:
        for name in ("dropout", "duplicate", "reorder"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise FaultSpecError(f"{name} must be a probability in [0, 1], got {value}")
        if not self.dropout_s > 0:
            raise FaultSpecError(f"dropout-s must be > 0 s, got {self.dropout_s}")
        if self.reorder_window < 1:
            raise FaultSpecError(f"reorder-window must be at least 1, got {self.reorder_window}")
        if not 0.0 <= self.low_battery_soc_pct < 100.0:
            raise FaultSpecError("low-battery-soc must be in [0, 100) %")

    @property
    def any_stream_fault(self) -> bool:
        """Whether any fault changes the stream (dropouts, duplicates, reordering)."""
        return self.dropout > 0 or self.duplicate > 0 or self.reorder > 0


_RATES = {"dropout": "dropout", "duplicate": "duplicate", "reorder": "reorder"}


def parse_faults(text: str | None) -> FaultSettings:
    """Fault settings from ``dropout=0.02,duplicate=0.05,reorder=0.05,low-battery=van-03``
    (also ``dropout-s``, ``reorder-window``, ``low-battery-soc``; ``low-battery`` may repeat).
    Empty or ``None``: no faults. :class:`FaultSpecError` names a bad entry."""
    values: dict[str, float] = {}
    window = 3
    low: set[str] = set()
    for raw in (text or "").split(","):
        entry = raw.strip()
        if not entry:
            continue
        key, sep, value = entry.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not value:
            raise FaultSpecError(f"fault {entry!r}: expected NAME=VALUE")
        if key == "low-battery":
            low.add(value)
            continue
        try:
            number = float(value)
        except ValueError:
            raise FaultSpecError(f"fault {entry!r}: {value!r} is not a number") from None
        if key in _RATES:
            values[_RATES[key]] = number
        elif key == "dropout-s":
            values["dropout_s"] = number
        elif key == "low-battery-soc":
            values["low_battery_soc_pct"] = number
        elif key == "reorder-window":
            if number != int(number):
                raise FaultSpecError(f"fault {entry!r}: a whole number of messages is needed")
            window = int(number)
        else:
            known = "dropout, dropout-s, duplicate, reorder, reorder-window, low-battery, "
            raise FaultSpecError(f"unknown fault {key!r} (known: {known}low-battery-soc)")
    return FaultSettings(
        dropout=values.get("dropout", 0.0),
        dropout_s=values.get("dropout_s", 120.0),
        duplicate=values.get("duplicate", 0.0),
        reorder=values.get("reorder", 0.0),
        reorder_window=window,
        low_battery=frozenset(low),
        low_battery_soc_pct=values.get("low_battery_soc_pct", 5.0),
    )


@dataclass(frozen=True)
class Delivery:
    """One message sent at ``send_s`` (s since the plan's midnight)."""

    send_s: float
    message: TelemetryMessage


@dataclass(frozen=True)
class FaultLog:
    """What the faults did to one van's stream: silent periods ``(from_s, to_s)`` with the
    ``seq`` numbers lost, and the ``seq`` numbers duplicated and held back."""

    dropouts: tuple[tuple[float, float], ...] = ()
    lost: tuple[int, ...] = ()
    duplicated: tuple[int, ...] = ()
    reordered: tuple[int, ...] = ()


def _plan_time_s(message: TelemetryMessage, day_start: datetime) -> float:
    return (message.timestamp - day_start) / timedelta(seconds=1)


def apply_faults(
    messages: Sequence[TelemetryMessage],
    settings: FaultSettings,
    rng: random.Random,
    day_start: datetime,
) -> tuple[list[Delivery], FaultLog]:
    """One van's deliveries from its clean ``messages`` (in fix order), and what was done.

    ``day_start``: the plan's midnight, for ``send_s``. Draws come in a fixed order (the
    dropouts over the whole stream, then per survivor the hold-back and the duplicate), each
    only when its rate is above 0.
    """
    times = [_plan_time_s(m, day_start) for m in messages]
    kept: list[int] = []
    dropouts: list[tuple[float, float]] = []
    lost: list[int] = []
    silent_until = -float("inf")
    for k, t in enumerate(times):
        if t >= silent_until and settings.dropout > 0 and rng.random() < settings.dropout:
            length = settings.dropout_s * rng.uniform(0.5, 1.5)
            silent_until = t + length
            dropouts.append((t, silent_until))
        if t < silent_until:
            lost.append(messages[k].seq)
        else:
            kept.append(k)
    # Each survivor gets a sort key: its position, or later when held back; duplicates are
    # extra entries placed after a few more messages. A stable sort gives the sending order.
    entries: list[tuple[float, int, int]] = []  # (key, tie-break, index into messages)
    duplicated: list[int] = []
    reordered: list[int] = []
    window = settings.reorder_window
    for position, k in enumerate(kept):
        key = float(position)
        if settings.reorder > 0 and rng.random() < settings.reorder:
            key = position + rng.randint(1, window) + 0.5
            reordered.append(messages[k].seq)
        entries.append((key, 0, k))
        if settings.duplicate > 0 and rng.random() < settings.duplicate:
            entries.append((key + rng.randint(0, window) + 0.75, 1, k))
            duplicated.append(messages[k].seq)
    entries.sort(key=lambda e: (e[0], e[1]))
    deliveries: list[Delivery] = []
    send = -float("inf")
    for _, _, k in entries:
        send = max(send, times[k])
        deliveries.append(Delivery(send, messages[k]))
    log = FaultLog(tuple(dropouts), tuple(lost), tuple(duplicated), tuple(reordered))
    return deliveries, log


def low_battery_drain(
    start_energy_wh: float,
    stints: Sequence[tuple[float, float]],
    battery_wh: float,
    target_soc_pct: float,
) -> float:
    """The drain factor that brings a van's lowest energy down to ``target_soc_pct``.

    ``stints`` are ``(energy at the start, energy used)`` in Wh for each stretch between
    charges (the first starting at the depot with ``start_energy_wh``), at drain 1. Energy
    is lowest at the end of a stint; the factor is the smallest that takes some stint's end
    to the target, and at least 1 (a van already below it stays as it is).
    """
    target = battery_wh * target_soc_pct / 100.0
    factors = [(e0 - target) / used for e0, used in stints if used > 0]
    if not factors:
        return 1.0
    return max(min(factors), 1.0) if start_energy_wh > target else 1.0
