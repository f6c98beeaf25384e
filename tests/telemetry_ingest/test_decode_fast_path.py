"""The decoder's fast paths give exactly what the plain ones gave: a message built without
re-running ``__post_init__`` equals the validated one, the shared JSON decoder and the
duplicate-key check answer as ``json.loads`` with the same hooks did, and the cached topic
parser raises afresh for a bad topic."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evfleet.telemetry import (
    AIR_TEMPERATURE,
    HEADING,
    IS_CHARGING,
    LATITUDE,
    LONGITUDE,
    RANGE,
    SEQ,
    SPEED,
    STATE_OF_CHARGE,
    TIMESTAMP,
    TRAVELED_DISTANCE,
    VEHICLE_ID,
    VSS_KEY,
    TelemetryError,
    TelemetryMessage,
    _loads,
    decode_message,
    message_from_dict,
    parse_topic,
)


def _reference_loads(data: str | bytes) -> object:
    """``evfleet.telemetry._loads`` as it was: a new decoder per call, a Python loop for
    duplicate keys."""

    def reject(name: str) -> object:
        raise ValueError(f"{name} is not allowed in JSON")

    def no_duplicates(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise TelemetryError(key, "appears twice in one object")
            result[key] = value
        return result

    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TelemetryError("$", f"payload is not UTF-8 ({exc.reason})") from None
    try:
        return json.loads(data, parse_constant=reject, object_pairs_hook=no_duplicates)
    except TelemetryError:
        raise
    except (ValueError, RecursionError) as exc:
        raise TelemetryError("$", f"not valid JSON ({exc})") from None


def _outcome(function: Any, *args: Any) -> object:
    try:
        return ("ok", function(*args))
    except TelemetryError as exc:
        return ("error", exc.field, exc.reason)


numbers = st.one_of(
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 0.0, -0.0, 90, 90.0, 180.0, 360, 360.0, 400, -400.0, 100, 2**32 - 1]),
    st.sampled_from([2**32, 2**63 - 1, 2**63, 1e-300, 111.11111111111111, 400.0000000000001]),
)
values = st.one_of(
    numbers,
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["2026-03-02T08:15:03Z", "2026-03-02T08:15:03+01:00", "2026-03-02T08:15:03"]),
    st.lists(st.integers(), max_size=2),
)
ids = st.one_of(st.text(max_size=70), st.sampled_from(["van-07", "a" * 64, "a" * 65, "-x", "Ü"]))
good_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True)
GOOD_VALUES: dict[str, st.SearchStrategy[object]] = {
    VEHICLE_ID: good_ids,
    SEQ: st.integers(0, 2**63 - 1),
    TIMESTAMP: st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    LATITUDE: st.floats(-90, 90),
    LONGITUDE: st.one_of(st.floats(-180, 180), st.integers(-180, 180)),
    HEADING: st.one_of(st.floats(0, 360), st.sampled_from([0, 360, 360.0])),
    SPEED: st.one_of(st.floats(-400, 400), st.integers(-400, 400)),
    TRAVELED_DISTANCE: st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([5.0, 1e9])),
    STATE_OF_CHARGE: st.one_of(st.floats(0, 100), st.integers(0, 100)),
    RANGE: st.integers(0, 2**32 - 1),
    IS_CHARGING: st.booleans(),
    AIR_TEMPERATURE: st.floats(-100, 100),
}
REQUIRED = (VEHICLE_ID, SEQ, TIMESTAMP, LATITUDE, LONGITUDE)


@st.composite
def raw_messages(draw: st.DrawFn) -> dict[str, object]:
    """Mostly valid messages, each key now and then left out or given any value."""
    raw: dict[str, object] = {}
    for key, good in GOOD_VALUES.items():
        if key not in REQUIRED and draw(st.booleans()):
            continue
        roll = draw(st.integers(0, 29))
        if roll == 0:
            continue  # a required key missing
        raw[key] = draw(ids if key == VEHICLE_ID else values) if roll == 1 else draw(good)
    if draw(st.integers(0, 9)) == 0:
        raw[VSS_KEY] = draw(st.sampled_from(["6.0", "5.1", 6.0]))
    return raw


@settings(max_examples=600, deadline=None)
@given(raw_messages())
def test_a_decoded_message_equals_the_validated_construction(raw: dict[str, object]) -> None:
    try:
        message = message_from_dict(raw)
    except TelemetryError:
        return
    # The dataclass constructor runs __post_init__ (the full validation) again.
    rebuilt = dataclasses.replace(message)
    assert rebuilt == message
    assert vars(rebuilt) == vars(message)
    assert type(message) is TelemetryMessage


json_texts = st.one_of(
    st.builds(json.dumps, st.dictionaries(st.text(max_size=4), values, max_size=5)),
    st.sampled_from(
        [
            '{"a": 1, "a": 2}',
            '{"a": 1, "b": {"c": 1, "c": 2}, "b": 3}',
            '{"x": 1, "y": 2, "x": 3, "y": 4}',
            '{"a": NaN}',
            '{"a": Infinity}',
            '{"a": -Infinity}',
            "\ufeff{}",
            "",
            "[1, 2",
            '{"a": 1} x',
            "[" * 100_000,
            '{"vehicle_id": "van-07", "seq": 1}',
        ]
    ),
    st.text(max_size=20),
)


@settings(max_examples=400, deadline=None)
@given(json_texts, st.booleans())
def test_the_json_decoder_answers_as_before(text: str, as_bytes: bool) -> None:
    data: str | bytes = text.encode("utf-8") if as_bytes else text
    assert _outcome(_loads, data) == _outcome(_reference_loads, data)


def test_invalid_utf8_and_a_repeated_key_name_the_same_field() -> None:
    assert _outcome(_loads, b"\xff{}") == _outcome(_reference_loads, b"\xff{}")
    with pytest.raises(TelemetryError) as error:
        decode_message('{"vehicle_id": "a", "seq": 1, "seq": 2}')
    assert (error.value.field, error.value.reason) == ("seq", "appears twice in one object")


def test_the_cached_topic_parser_raises_every_time() -> None:
    good = "evfleet/acme/vehicles/van-07/telemetry"
    assert parse_topic(good) == parse_topic(good)
    for _ in range(3):
        with pytest.raises(TelemetryError) as error:
            parse_topic("evfleet/acme/vehicles/van+07/telemetry")
        assert error.value.field == "topic"
