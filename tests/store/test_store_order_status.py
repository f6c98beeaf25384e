"""The order life cycle (pure core, which the store and the API enforce): the allowed steps."""

from __future__ import annotations

import itertools

import pytest

from evfleet.order_status import (
    TRANSITIONS,
    InvalidTransitionError,
    OrderStatus,
    allowed_next,
    can_transition,
    check_transition,
    is_terminal,
)

S = OrderStatus
ALLOWED = {
    (S.RECEIVED, S.PLANNED),
    (S.PLANNED, S.DISPATCHED),
    (S.PLANNED, S.RECEIVED),
    (S.DISPATCHED, S.OUT_FOR_DELIVERY),
    (S.OUT_FOR_DELIVERY, S.DELIVERED),
    (S.OUT_FOR_DELIVERY, S.FAILED),
    (S.FAILED, S.RETURNED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_exactly_the_documented_steps_are_allowed(current: S, target: S) -> None:
    expected = (current, target) in ALLOWED
    assert can_transition(current, target) is expected
    if expected:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransitionError) as caught:
            check_transition(current, target)
        assert caught.value.allowed == allowed_next(current)
        assert current.value in str(caught.value) and target.value in str(caught.value)


def test_every_status_has_an_entry_and_the_ends_are_terminal() -> None:
    assert set(TRANSITIONS) == set(S)
    assert {s for s in S if is_terminal(s)} == {S.DELIVERED, S.RETURNED}
    assert allowed_next(S.OUT_FOR_DELIVERY) == (S.DELIVERED, S.FAILED)
    assert "none: the status is final" in str(InvalidTransitionError(S.DELIVERED, S.FAILED))


def test_the_happy_path_reaches_delivered() -> None:
    path = [S.RECEIVED, S.PLANNED, S.DISPATCHED, S.OUT_FOR_DELIVERY, S.DELIVERED]
    for a, b in itertools.pairwise(path):
        check_transition(a, b)
