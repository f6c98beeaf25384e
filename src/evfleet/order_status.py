"""An order's life cycle as a state machine (pure core: no I/O, no storage).

::

    received ──> planned ──> dispatched ──> out_for_delivery ──> delivered
        ^           │                               │
        └───────────┘                               └──> failed ──> returned

The main line is the issue's: received → planned → dispatched → out_for_delivery →
delivered, or failed → returned. One step back is allowed, ``planned → received``: a plan
that is discarded (or replaced before dispatch) gives its orders back to be planned again.
``delivered`` and ``returned`` are terminal. Staying in the same status is not a transition.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = [
    "TRANSITIONS",
    "InvalidTransitionError",
    "OrderStatus",
    "allowed_next",
    "can_transition",
    "check_transition",
    "is_terminal",
]


class OrderStatus(StrEnum):
    """Where an order is in its life cycle."""

    RECEIVED = "received"
    PLANNED = "planned"
    DISPATCHED = "dispatched"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILED = "failed"
    RETURNED = "returned"


TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.RECEIVED: frozenset({OrderStatus.PLANNED}),
    OrderStatus.PLANNED: frozenset({OrderStatus.DISPATCHED, OrderStatus.RECEIVED}),
    OrderStatus.DISPATCHED: frozenset({OrderStatus.OUT_FOR_DELIVERY}),
    OrderStatus.OUT_FOR_DELIVERY: frozenset({OrderStatus.DELIVERED, OrderStatus.FAILED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.FAILED: frozenset({OrderStatus.RETURNED}),
    OrderStatus.RETURNED: frozenset(),
}
"""For each status, the statuses an order may move to next."""


class InvalidTransitionError(ValueError):
    """An order cannot move from ``current`` to ``target``; ``allowed`` lists where it can."""

    def __init__(self, current: OrderStatus, target: OrderStatus) -> None:
        self.current = current
        self.target = target
        self.allowed = allowed_next(current)
        options = ", ".join(s.value for s in self.allowed) or "none: the status is final"
        super().__init__(
            f"an order cannot go from {current.value} to {target.value} (allowed next: {options})"
        )


def allowed_next(current: OrderStatus) -> tuple[OrderStatus, ...]:
    """The statuses an order in ``current`` may move to, in life-cycle order."""
    order = list(OrderStatus)
    return tuple(sorted(TRANSITIONS[current], key=order.index))


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether an order in ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]


def check_transition(current: OrderStatus, target: OrderStatus) -> None:
    """Raises :class:`InvalidTransitionError` unless ``current → target`` is allowed."""
    if not can_transition(current, target):
        raise InvalidTransitionError(current, target)


def is_terminal(status: OrderStatus) -> bool:
    """Whether nothing can follow ``status`` (delivered, returned)."""
    return not TRANSITIONS[status]
