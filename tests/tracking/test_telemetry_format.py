"""The telemetry message format: VSS names and units, strict validation, batches, topics."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evfleet.telemetry import (
    IS_CHARGING,
    LATITUDE,
    SIGNALS,
    SPEED,
    STATE_OF_CHARGE,
    TIMESTAMP,
    TOPIC_FILTER,
    TRAVELED_DISTANCE,
    DeadLetter,
    TelemetryError,
    TelemetryMessage,
    decode_batch,
    decode_message,
    decode_mqtt,
    encode_batch,
    encode_message,
    message_from_dict,
    message_to_dict,
    parse_topic,
    telemetry_topic,
    topic_filter,
)

GOOD: dict[str, object] = {
    "vss": "6.0",
    "vehicle_id": "van-07",
    "seq": 42,
    "Vehicle.CurrentLocation.Timestamp": "2026-03-02T08:15:03+01:00",
    "Vehicle.CurrentLocation.Latitude": 48.1374,
    "Vehicle.CurrentLocation.Longitude": 11.5755,
    "Vehicle.CurrentLocation.Heading": 92.5,
    "Vehicle.Speed": 36.0,
    "Vehicle.TraveledDistance": 1234567,
    "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": 64.2,
    "Vehicle.Powertrain.TractionBattery.Range": 98000,
    "Vehicle.Powertrain.TractionBattery.Charging.IsCharging": False,
    "Vehicle.Exterior.AirTemperature": 7.5,
}


def with_(**changes: object) -> dict[str, object]:
    """GOOD with keys replaced (a value of ``...`` removes the key); keys use ``__`` for
    dots."""
    out = dict(GOOD)
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is ...:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def test_decodes_vss_names_into_si_units() -> None:
    m = decode_message(json.dumps(GOOD))
    assert m.vehicle_id == "van-07" and m.seq == 42
    assert m.timestamp == datetime(2026, 3, 2, 7, 15, 3, tzinfo=UTC)
    assert m.speed_m_per_s == pytest.approx(10.0)  # 36 km/h
    assert m.odometer_m == 1234567 and m.range_m == 98000
    assert m.soc_pct == 64.2 and m.is_charging is False and m.air_temperature_c == 7.5
    assert m.heading_deg == 92.5


def test_only_identity_position_and_time_are_required() -> None:
    minimal = {k: GOOD[k] for k in ("vehicle_id", "seq", TIMESTAMP, LATITUDE, SIGNALS[2])}
    m = message_from_dict(minimal)
    assert m.speed_m_per_s is None and m.soc_pct is None and m.vss_version == "6.0"
    # JSON null means "not available" for an optional signal.
    assert message_from_dict({**minimal, SPEED: None}).speed_m_per_s is None


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"Vehicle__Speed": "fast"}, "Vehicle.Speed", "must be a number"),
        ({"Vehicle__Speed": True}, "Vehicle.Speed", "must be a number"),
        ({"Vehicle__Speed": 900}, "Vehicle.Speed", "outside"),
        ({"Vehicle__CurrentLocation__Latitude": 91.0}, LATITUDE, "outside"),
        ({"Vehicle__CurrentLocation__Latitude": ...}, LATITUDE, "required"),
        ({"Vehicle__CurrentLocation__Timestamp": "2026-03-02T08:15:03"}, TIMESTAMP, "UTC offset"),
        ({"Vehicle__CurrentLocation__Timestamp": "yesterday"}, TIMESTAMP, "ISO 8601"),
        ({"Vehicle__CurrentLocation__Timestamp": 1772435703}, TIMESTAMP, "ISO 8601"),
        ({"Vehicle__TraveledDistance": 1234.5}, TRAVELED_DISTANCE, "whole number"),
        ({"Vehicle__TraveledDistance": -1}, TRAVELED_DISTANCE, "outside"),
        (
            {"Vehicle__Powertrain__TractionBattery__StateOfCharge__Current": 101},
            STATE_OF_CHARGE,
            "",
        ),
        ({"Vehicle__Powertrain__TractionBattery__Charging__IsCharging": 1}, IS_CHARGING, "true"),
        ({"seq": -1}, "seq", "outside"),
        ({"seq": 4.0}, "seq", "integer"),
        ({"seq": ...}, "seq", "required"),
        ({"vehicle_id": "van/07"}, "vehicle_id", "not a valid id"),
        ({"vehicle_id": 7}, "vehicle_id", "string"),
        ({"vss": "5.1"}, "vss", "unsupported VSS version"),
        ({"Vehicle__Cabin__Temperature": 20}, "Vehicle.Cabin.Temperature", "unknown key"),
        ({"driver": "Ann"}, "driver", "unknown key"),
    ],
)
def test_malformed_messages_name_the_field(
    changes: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(TelemetryError) as err:
        decode_message(json.dumps(with_(**changes)))
    assert err.value.field == field
    assert reason in err.value.reason
    assert field in str(err.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"seq": NaN}', "not valid JSON"),
        (b"\xff\xfe", "UTF-8"),
    ],
)
def test_unparsable_payloads_are_errors_of_the_whole_message(
    text: str | bytes, reason: str
) -> None:
    with pytest.raises(TelemetryError) as err:
        decode_message(text)
    assert err.value.field == "$" and reason in err.value.reason


def test_duplicate_keys_are_refused() -> None:
    text = json.dumps(GOOD)[:-1] + ', "seq": 43}'
    with pytest.raises(TelemetryError) as err:
        decode_message(text)
    assert err.value.field == "seq" and "twice" in err.value.reason


def test_lenient_mode_ignores_unknown_vss_signals_only() -> None:
    extra = with_(Vehicle__Cabin__Temperature=20)
    assert message_from_dict(extra, strict=False).seq == 42
    with pytest.raises(TelemetryError):
        message_from_dict(with_(driver="Ann"), strict=False)


def test_heading_360_wraps_and_reverse_speed_is_kept() -> None:
    m = message_from_dict(with_(Vehicle__CurrentLocation__Heading=360, Vehicle__Speed=-7.2))
    assert m.heading_deg == 0.0
    assert m.speed_m_per_s == pytest.approx(-2.0)


def test_encoding_uses_vss_units_and_round_trips() -> None:
    m = decode_message(json.dumps(GOOD))
    wire = message_to_dict(m)
    assert wire[SPEED] == pytest.approx(36.0)
    assert wire[TIMESTAMP] == "2026-03-02T08:15:03+01:00"
    assert decode_message(encode_message(m)) == m
    utc = TelemetryMessage("v1", 1, datetime(2026, 3, 2, 7, tzinfo=UTC), 48.0, 11.0)
    assert message_to_dict(utc)[TIMESTAMP] == "2026-03-02T07:00:00Z"


def test_messages_built_in_code_are_validated() -> None:
    stamp = datetime(2026, 3, 2, 7, tzinfo=UTC)
    with pytest.raises(TelemetryError) as err:
        TelemetryMessage("v1", 1, stamp, 48.0, 181.0)
    assert err.value.field == "Vehicle.CurrentLocation.Longitude"
    with pytest.raises(TelemetryError) as err:
        TelemetryMessage("v1", 1, datetime(2026, 3, 2, 7), 48.0, 11.0)
    assert err.value.field == TIMESTAMP


def test_batches_keep_good_messages_and_report_bad_ones_by_index() -> None:
    bad = with_(Vehicle__Speed="fast")
    body = json.dumps([GOOD, bad, with_(seq=43), 7])
    result = decode_batch(body)
    assert [m.seq for m in result.messages] == [42, 43]
    assert [r.index for r in result.rejected] == [1, 3]
    assert result.rejected[0].error.field == "Vehicle.Speed"
    assert result.rejected[0].error.index == 1
    assert "message 1: Vehicle.Speed" in str(result.rejected[0].error)
    assert result.rejected[1].error.field == "$"
    assert decode_batch(encode_batch(result.messages)).messages == result.messages


def test_batch_envelope_errors() -> None:
    with pytest.raises(TelemetryError, match="JSON array"):
        decode_batch(json.dumps(GOOD))
    with pytest.raises(TelemetryError, match="at most 2"):
        decode_batch([GOOD, GOOD, GOOD], max_messages=2)


def test_topics() -> None:
    topic = telemetry_topic("acme", "van-07")
    assert topic == "evfleet/acme/vehicles/van-07/telemetry"
    address = parse_topic(topic)
    assert (address.org, address.vehicle_id) == ("acme", "van-07")
    assert topic_filter() == TOPIC_FILTER == "evfleet/+/vehicles/+/telemetry"
    assert topic_filter("acme") == "evfleet/acme/vehicles/+/telemetry"
    for wrong in (
        "evfleet/acme/vehicles/van-07",
        "evfleet/acme/cars/van-07/telemetry",
        "evfleet/acme/vehicles/+/telemetry",
        "other/acme/vehicles/van-07/telemetry",
    ):
        with pytest.raises(TelemetryError) as err:
            parse_topic(wrong)
        assert err.value.field == "topic"
    with pytest.raises(TelemetryError):
        telemetry_topic("acme", "van#7")


def test_mqtt_payload_must_match_its_topic() -> None:
    payload = json.dumps(GOOD).encode()
    assert decode_mqtt("evfleet/acme/vehicles/van-07/telemetry", payload).seq == 42
    with pytest.raises(TelemetryError) as err:
        decode_mqtt("evfleet/acme/vehicles/van-08/telemetry", payload)
    assert err.value.field == "vehicle_id" and "topic" in err.value.reason


def test_dead_letter_keeps_payload_and_reason() -> None:
    payload = b'{"seq": "x"}'
    try:
        decode_mqtt("evfleet/acme/vehicles/van-07/telemetry", payload)
    except TelemetryError as exc:
        now = datetime(2026, 3, 2, 8, tzinfo=UTC)
        letter = DeadLetter.of("evfleet/acme/vehicles/van-07/telemetry", payload, exc, now)
    assert letter.payload == '{"seq": "x"}'
    assert letter.field == "vehicle_id" and letter.reason == "is required"
    obj_letter = DeadLetter.of("http", {"a": 1}, TelemetryError("$", "x"), now)
    assert json.loads(obj_letter.payload) == {"a": 1}


# -------------------------------------------------------------------------- properties


def fl(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


messages = st.builds(
    TelemetryMessage,
    vehicle_id=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True),
    seq=st.integers(0, 2**63 - 1),
    timestamp=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.replace(tzinfo=timezone(timedelta(hours=1)))
    ),
    latitude_deg=fl(-90, 90),
    longitude_deg=fl(-180, 180),
    heading_deg=st.none() | fl(0, 359.99),
    speed_m_per_s=st.none() | fl(-100, 100),
    odometer_m=st.none() | st.integers(0, 2**32 - 1),
    soc_pct=st.none() | fl(0, 100),
    range_m=st.none() | st.integers(0, 2**32 - 1),
    is_charging=st.none() | st.booleans(),
    air_temperature_c=st.none() | fl(-100, 100),
)


@settings(max_examples=60, deadline=None)
@given(messages)
def test_round_trip_property(m: TelemetryMessage) -> None:
    back = decode_message(encode_message(m))
    assert back.timestamp == m.timestamp
    assert (back.vehicle_id, back.seq, back.odometer_m, back.range_m) == (
        m.vehicle_id,
        m.seq,
        m.odometer_m,
        m.range_m,
    )
    assert (back.latitude_deg, back.longitude_deg, back.soc_pct) == (
        m.latitude_deg,
        m.longitude_deg,
        m.soc_pct,
    )
    if m.speed_m_per_s is None:
        assert back.speed_m_per_s is None
    else:
        assert back.speed_m_per_s is not None
        assert math.isclose(back.speed_m_per_s, m.speed_m_per_s, rel_tol=1e-12, abs_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*SIGNALS, "seq", "vehicle_id", "x"]),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    )
)
def test_arbitrary_objects_decode_or_raise_telemetry_error(raw: dict[str, object]) -> None:
    try:
        message_from_dict(raw)
    except TelemetryError as exc:
        assert exc.field and exc.reason


def test_the_examples_in_the_docs_decode() -> None:
    import re
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "telemetry.md").read_text("utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert len(blocks) == 3
    single, minimal, batch = blocks
    assert decode_message(single).speed_m_per_s == pytest.approx(10.0)
    assert decode_message(minimal).soc_pct is None
    result = decode_batch(batch)
    assert len(result.messages) == 1 and len(result.rejected) == 1
    assert str(result.rejected[0].error) in text
