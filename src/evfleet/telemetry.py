"""The telemetry message format: COVESA VSS 6.0 signal names over MQTT or HTTP (pure core).

One message is one JSON object: the van's identity (``vehicle_id``), a per-vehicle sequence
number (``seq``), the VSS catalogue version (``vss``, optional, ``"6.0"`` only) and flat VSS
6.0 signal paths as keys. Units on the wire are VSS 6.0's; :class:`TelemetryMessage` holds
evfleet's SI units (m, s, m/s):

========================================================  =========================  ===========
VSS 6.0 path (wire)                                       wire type / unit           internal
========================================================  =========================  ===========
``Vehicle.CurrentLocation.Timestamp``         (required)  ISO 8601 with UTC offset   aware datetime
``Vehicle.CurrentLocation.Latitude``          (required)  double, degrees WGS 84     degrees
``Vehicle.CurrentLocation.Longitude``         (required)  double, degrees WGS 84     degrees
``Vehicle.CurrentLocation.Heading``                       double, degrees [0, 360)   degrees
``Vehicle.Speed``                                         float, **km/h**            **m/s**
``Vehicle.TraveledDistance``                              uint32, **m** (6.0)        m
``Vehicle.Powertrain.TractionBattery.StateOfCharge.Current``  float, % [0, 100]      %
``Vehicle.Powertrain.TractionBattery.Range``              uint32, m                  m
``Vehicle.Powertrain.TractionBattery.Charging.IsCharging``  boolean                  bool
``Vehicle.Exterior.AirTemperature``                       float, °C (unit Celsius)   °C
========================================================  =========================  ===========

VSS 6.0 made ``TraveledDistance`` an unsigned integer in metres (≤ 5.x: float km); a
payload labelled with another version is rejected rather than guessed at. ``Vehicle.Speed``
may be negative when reversing (VSS sets no minimum); the tracker uses its magnitude.

Every decoding error is a :class:`TelemetryError` naming the field and the reason, so that a
malformed message can go to a dead-letter store (:class:`DeadLetter`) with that reason.
MQTT topics are ``evfleet/<org>/vehicles/<vehicle_id>/telemetry`` (:func:`telemetry_topic`,
:func:`parse_topic`). ``docs/telemetry.md`` describes the delivery semantics.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

__all__ = [
    "KMH_PER_M_PER_S",
    "MAX_BATCH",
    "SIGNALS",
    "TOPIC_FILTER",
    "VSS_VERSION",
    "BatchResult",
    "DeadLetter",
    "Rejected",
    "TelemetryError",
    "TelemetryMessage",
    "TopicAddress",
    "decode_batch",
    "decode_message",
    "decode_mqtt",
    "encode_batch",
    "encode_message",
    "message_from_dict",
    "message_to_dict",
    "parse_topic",
    "telemetry_topic",
    "topic_filter",
]

VSS_VERSION: Final = "6.0"
"""The VSS catalogue version evfleet's payloads use (KUKSA's default)."""

KMH_PER_M_PER_S: Final = 3.6
"""km/h in one m/s (``Vehicle.Speed`` is km/h on the wire, m/s inside)."""

MAX_BATCH: Final = 1000
"""Most messages one HTTP batch may carry."""

UINT32_MAX: Final = 2**32 - 1
SEQ_MAX: Final = 2**63 - 1
MAX_SPEED_KMH: Final = 400.0
"""Largest ``|Vehicle.Speed|`` accepted, km/h (beyond it the value is a sensor fault)."""
AIR_TEMPERATURE_RANGE_C: Final = (-100.0, 100.0)

# Wire keys.
VEHICLE_ID: Final = "vehicle_id"
SEQ: Final = "seq"
VSS_KEY: Final = "vss"
TIMESTAMP: Final = "Vehicle.CurrentLocation.Timestamp"
LATITUDE: Final = "Vehicle.CurrentLocation.Latitude"
LONGITUDE: Final = "Vehicle.CurrentLocation.Longitude"
HEADING: Final = "Vehicle.CurrentLocation.Heading"
SPEED: Final = "Vehicle.Speed"
TRAVELED_DISTANCE: Final = "Vehicle.TraveledDistance"
STATE_OF_CHARGE: Final = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
RANGE: Final = "Vehicle.Powertrain.TractionBattery.Range"
IS_CHARGING: Final = "Vehicle.Powertrain.TractionBattery.Charging.IsCharging"
AIR_TEMPERATURE: Final = "Vehicle.Exterior.AirTemperature"

SIGNALS: Final = (
    TIMESTAMP,
    LATITUDE,
    LONGITUDE,
    HEADING,
    SPEED,
    TRAVELED_DISTANCE,
    STATE_OF_CHARGE,
    RANGE,
    IS_CHARGING,
    AIR_TEMPERATURE,
)
"""The VSS 6.0 paths a message may carry, in wire order."""

_KNOWN_KEYS: Final = frozenset((VEHICLE_ID, SEQ, VSS_KEY, *SIGNALS))

_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""Vehicle and organisation ids: safe as one MQTT topic level (no ``/``, ``+``, ``#``)."""

TOPIC_FILTER: Final = "evfleet/+/vehicles/+/telemetry"
"""MQTT subscription filter for every organisation's telemetry."""


class TelemetryError(ValueError):
    """A message (or topic) that does not follow the format.

    ``field`` names the offending key (a VSS path, ``vehicle_id``, ``seq``, ``vss``,
    ``topic``, or ``$`` for the message as a whole); ``reason`` says what is wrong; ``index``
    is the message's position in a batch, when it came in one.
    """

    def __init__(self, field: str, reason: str, index: int | None = None) -> None:
        self.field = field
        self.reason = reason
        self.index = index
        where = f"message {index}: " if index is not None else ""
        super().__init__(f"{where}{field}: {reason}")

    def at(self, index: int) -> TelemetryError:
        """The same error, located at position ``index`` of a batch."""
        return TelemetryError(self.field, self.reason, index)


@dataclass(frozen=True)
class TelemetryMessage:
    """One telemetry sample of one van, in SI units (see the module table for the wire form).

    ``timestamp`` is the fix time (timezone-aware); ``speed_m_per_s`` is converted from
    VSS km/h; optional signals are ``None`` when the van did not send them.
    """

    vehicle_id: str
    seq: int
    timestamp: datetime
    latitude_deg: float
    longitude_deg: float
    heading_deg: float | None = None
    speed_m_per_s: float | None = None
    odometer_m: int | None = None
    soc_pct: float | None = None
    range_m: int | None = None
    is_charging: bool | None = None
    air_temperature_c: float | None = None
    vss_version: str = VSS_VERSION

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def time_s(self) -> float:
        """The fix time as POSIX seconds (UTC)."""
        return self.timestamp.timestamp()


@dataclass(frozen=True)
class TopicAddress:
    """What an MQTT telemetry topic names: the organisation and the vehicle."""

    org: str
    vehicle_id: str


@dataclass(frozen=True)
class Rejected:
    """A batch entry that failed validation: its position, the error and the raw entry."""

    index: int
    error: TelemetryError
    raw: object


@dataclass(frozen=True)
class BatchResult:
    """A decoded HTTP batch: the valid messages (in batch order) and the rejected entries."""

    messages: tuple[TelemetryMessage, ...]
    rejected: tuple[Rejected, ...]


@dataclass(frozen=True)
class DeadLetter:
    """A malformed message kept for inspection: the raw payload, where it came from and why
    it was refused (``field`` and ``reason`` of the :class:`TelemetryError`).

    ``source`` is the MQTT topic or ``"http"``; ``received_at`` when the service got it.
    """

    source: str
    payload: str
    field: str
    reason: str
    received_at: datetime

    @classmethod
    def of(
        cls,
        source: str,
        payload: str | bytes | object,
        error: TelemetryError,
        received_at: datetime,
    ) -> DeadLetter:
        """The dead letter for ``payload`` refused with ``error`` (bytes decoded leniently,
        objects as JSON)."""
        if isinstance(payload, bytes):
            text = payload.decode("utf-8", errors="replace")
        elif isinstance(payload, str):
            text = payload
        else:
            try:
                text = json.dumps(payload, ensure_ascii=False, default=repr)
            except ValueError:  # circular or NaN-laden: keep something readable
                text = repr(payload)
        return cls(source, text, error.field, error.reason, received_at)


# ------------------------------------------------------------------------------- topics


def _check_id(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise TelemetryError(field, f"must be a string, got {_type_name(value)}")
    if not _ID_PATTERN.fullmatch(value):
        raise TelemetryError(
            field,
            f"{value!r} is not a valid id (1-64 characters A-Z a-z 0-9 . _ -, "
            "starting with a letter or digit)",
        )
    return value


def telemetry_topic(org: str, vehicle_id: str) -> str:
    """The MQTT topic a van publishes on: ``evfleet/<org>/vehicles/<vehicle_id>/telemetry``."""
    _check_id("org", org)
    _check_id(VEHICLE_ID, vehicle_id)
    return f"evfleet/{org}/vehicles/{vehicle_id}/telemetry"


def topic_filter(org: str | None = None) -> str:
    """The subscription filter for one organisation's vans (``None``: all organisations)."""
    if org is None:
        return TOPIC_FILTER
    _check_id("org", org)
    return f"evfleet/{org}/vehicles/+/telemetry"


def parse_topic(topic: str) -> TopicAddress:
    """The organisation and vehicle a telemetry topic names; :class:`TelemetryError`
    (``field="topic"``) when it is not ``evfleet/<org>/vehicles/<vehicle_id>/telemetry``."""
    return _parse_topic(topic)


@functools.lru_cache(maxsize=1 << 16)
def _parse_topic(topic: str) -> TopicAddress:
    # Cached: an ingester sees the same few thousand topics again and again (an error is
    # raised afresh each time, never cached).
    parts = topic.split("/")
    if (
        len(parts) != 5
        or parts[0] != "evfleet"
        or parts[2] != "vehicles"
        or parts[4] != "telemetry"
    ):
        raise TelemetryError(
            "topic", f"{topic!r} is not evfleet/<org>/vehicles/<vehicle_id>/telemetry"
        )
    try:
        return TopicAddress(_check_id("org", parts[1]), _check_id(VEHICLE_ID, parts[3]))
    except TelemetryError as exc:
        raise TelemetryError("topic", f"{topic!r}: {exc.field} {exc.reason}") from None


# ----------------------------------------------------------------------------- decoding


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _number(field: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TelemetryError(field, f"must be a number, got {_type_name(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise TelemetryError(field, f"must be finite, got {value!r}")
    if not low <= number <= high:
        raise TelemetryError(field, f"{value!r} is outside [{low:g}, {high:g}]")
    return number


def _uint32(field: str, value: object) -> int:
    number = _number(field, value, 0, UINT32_MAX)
    if number != int(number):
        raise TelemetryError(field, f"must be a whole number of metres (uint32), got {value!r}")
    return int(number)


def _timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise TelemetryError(TIMESTAMP, f"must be an ISO 8601 string, got {_type_name(value)}")
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise TelemetryError(
            TIMESTAMP, f"{value!r} is not an ISO 8601 date-time (e.g. 2026-03-02T08:15:03Z)"
        ) from None
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise TelemetryError(TIMESTAMP, f"{value!r} has no UTC offset (add Z or e.g. +01:00)")
    return stamp


def message_from_dict(raw: object, *, strict: bool = True) -> TelemetryMessage:
    """A message from a decoded JSON object; :class:`TelemetryError` naming the field.

    ``strict`` refuses keys the format does not know; without it, unknown ``Vehicle.*``
    signals are ignored (other unknown keys are still refused).
    """
    if not isinstance(raw, Mapping):
        raise TelemetryError("$", f"a message must be a JSON object, got {_type_name(raw)}")
    for key in raw:
        if not isinstance(key, str):
            raise TelemetryError("$", f"key {key!r} is not a string")
        if key in _KNOWN_KEYS:
            continue
        if not strict and key.startswith("Vehicle."):
            continue
        hint = " (not a VSS 6.0 signal evfleet reads)" if key.startswith("Vehicle.") else ""
        raise TelemetryError(key, f"unknown key{hint}")
    version = raw.get(VSS_KEY, VSS_VERSION)
    if version != VSS_VERSION:
        raise TelemetryError(
            VSS_KEY, f"unsupported VSS version {version!r} (supported: {VSS_VERSION!r})"
        )
    for key in (VEHICLE_ID, SEQ, TIMESTAMP, LATITUDE, LONGITUDE):
        if raw.get(key) is None:
            raise TelemetryError(key, "is required")
    vehicle_id = _check_id(VEHICLE_ID, raw[VEHICLE_ID])
    seq_raw = raw[SEQ]
    if isinstance(seq_raw, bool) or not isinstance(seq_raw, int):
        raise TelemetryError(SEQ, f"must be an integer, got {_type_name(seq_raw)} {seq_raw!r}")
    if not 0 <= seq_raw <= SEQ_MAX:
        raise TelemetryError(SEQ, f"{seq_raw} is outside [0, 2^63 - 1]")
    timestamp = _timestamp(raw[TIMESTAMP])
    lat = _number(LATITUDE, raw[LATITUDE], -90.0, 90.0)
    lon = _number(LONGITUDE, raw[LONGITUDE], -180.0, 180.0)

    heading = raw.get(HEADING)
    speed = raw.get(SPEED)
    odometer = raw.get(TRAVELED_DISTANCE)
    soc = raw.get(STATE_OF_CHARGE)
    range_ = raw.get(RANGE)
    charging = raw.get(IS_CHARGING)
    temperature = raw.get(AIR_TEMPERATURE)
    heading_deg = None
    if heading is not None:
        heading_deg = _number(HEADING, heading, 0.0, 360.0)
        if heading_deg == 360.0:
            heading_deg = 0.0
    speed_ms = None
    if speed is not None:
        speed_ms = _number(SPEED, speed, -MAX_SPEED_KMH, MAX_SPEED_KMH) / KMH_PER_M_PER_S
    if charging is not None and not isinstance(charging, bool):
        raise TelemetryError(
            IS_CHARGING, f"must be true or false, got {_type_name(charging)} {charging!r}"
        )
    odometer_m = None if odometer is None else _uint32(TRAVELED_DISTANCE, odometer)
    soc_pct = None if soc is None else _number(STATE_OF_CHARGE, soc, 0.0, 100.0)
    range_m = None if range_ is None else _uint32(RANGE, range_)
    air_temperature_c = (
        None
        if temperature is None
        else _number(AIR_TEMPERATURE, temperature, *AIR_TEMPERATURE_RANGE_C)
    )
    # Every value has been checked above, as strictly as _validate would check it again
    # (speed: |v| <= 400 km/h gives |v / 3.6| <= 400 / 3.6), so the message is built
    # without running __post_init__ a second time: that halved the cost of decoding.
    message = _new_message(TelemetryMessage)
    message.__dict__.update(
        vehicle_id=vehicle_id,
        seq=seq_raw,
        timestamp=timestamp,
        latitude_deg=lat,
        longitude_deg=lon,
        heading_deg=heading_deg,
        speed_m_per_s=speed_ms,
        odometer_m=odometer_m,
        soc_pct=soc_pct,
        range_m=range_m,
        is_charging=charging,
        air_temperature_c=air_temperature_c,
        vss_version=VSS_VERSION,
    )
    return message


_new_message = object.__new__


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not allowed in JSON")


def _no_duplicates(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):  # a key given twice: name the first repeated one
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise TelemetryError(key, "appears twice in one object")
            seen.add(key)
    return result


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
"""What ``json.loads(text, parse_constant=…, object_pairs_hook=…)`` builds on every call."""


def _loads(data: str | bytes) -> object:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TelemetryError("$", f"payload is not UTF-8 ({exc.reason})") from None
    try:
        if data.startswith("\ufeff"):  # json.loads' own error for a byte order mark
            return json.loads(
                data, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates
            )
        return _DECODER.decode(data)
    except TelemetryError:
        raise
    except (ValueError, RecursionError) as exc:
        raise TelemetryError("$", f"not valid JSON ({exc})") from None


def decode_message(data: str | bytes, *, strict: bool = True) -> TelemetryMessage:
    """One message from its JSON text (a single object); see :func:`message_from_dict`."""
    return message_from_dict(_loads(data), strict=strict)


def decode_mqtt(topic: str, payload: str | bytes, *, strict: bool = True) -> TelemetryMessage:
    """A message received on ``topic``; its ``vehicle_id`` must be the topic's."""
    address = parse_topic(topic)
    message = decode_message(payload, strict=strict)
    if message.vehicle_id != address.vehicle_id:
        raise TelemetryError(
            VEHICLE_ID,
            f"{message.vehicle_id!r} differs from the topic's vehicle {address.vehicle_id!r}",
        )
    return message


def decode_batch(
    data: str | bytes | object, *, strict: bool = True, max_messages: int = MAX_BATCH
) -> BatchResult:
    """An HTTP batch: a JSON array of messages (text, or already decoded).

    Entries are validated one by one: a bad entry is returned in ``rejected`` (its
    :class:`TelemetryError` carries the ``index``) and does not spoil the others. A body that
    is not an array, or longer than ``max_messages``, raises :class:`TelemetryError`
    (``field="$"``).
    """
    raw = _loads(data) if isinstance(data, str | bytes) else data
    if not isinstance(raw, list):
        raise TelemetryError("$", f"a batch must be a JSON array, got {_type_name(raw)}")
    if len(raw) > max_messages:
        raise TelemetryError("$", f"a batch holds at most {max_messages} messages, got {len(raw)}")
    messages: list[TelemetryMessage] = []
    rejected: list[Rejected] = []
    for index, entry in enumerate(raw):
        try:
            messages.append(message_from_dict(entry, strict=strict))
        except TelemetryError as exc:
            rejected.append(Rejected(index, exc.at(index), entry))
    return BatchResult(tuple(messages), tuple(rejected))


# ----------------------------------------------------------------------------- encoding


def _validate(m: TelemetryMessage) -> None:
    """The invariants :func:`message_from_dict` guarantees, for messages built in code."""
    _check_id(VEHICLE_ID, m.vehicle_id)
    if isinstance(m.seq, bool) or not isinstance(m.seq, int) or not 0 <= m.seq <= SEQ_MAX:
        raise TelemetryError(SEQ, f"must be an integer in [0, 2^63 - 1], got {m.seq!r}")
    if m.vss_version != VSS_VERSION:
        raise TelemetryError(VSS_KEY, f"unsupported VSS version {m.vss_version!r}")
    if m.timestamp.tzinfo is None or m.timestamp.utcoffset() is None:
        raise TelemetryError(TIMESTAMP, "must be timezone-aware")
    _number(LATITUDE, m.latitude_deg, -90.0, 90.0)
    _number(LONGITUDE, m.longitude_deg, -180.0, 180.0)
    if m.heading_deg is not None:
        _number(HEADING, m.heading_deg, 0.0, 360.0)
    if m.speed_m_per_s is not None:
        limit = MAX_SPEED_KMH / KMH_PER_M_PER_S
        _number(SPEED, m.speed_m_per_s, -limit, limit)
    if m.odometer_m is not None:
        _uint32(TRAVELED_DISTANCE, m.odometer_m)
    if m.soc_pct is not None:
        _number(STATE_OF_CHARGE, m.soc_pct, 0.0, 100.0)
    if m.range_m is not None:
        _uint32(RANGE, m.range_m)
    if m.is_charging is not None and not isinstance(m.is_charging, bool):
        raise TelemetryError(IS_CHARGING, "must be a boolean")
    if m.air_temperature_c is not None:
        _number(AIR_TEMPERATURE, m.air_temperature_c, *AIR_TEMPERATURE_RANGE_C)


def _iso(stamp: datetime) -> str:
    text = stamp.isoformat()
    if stamp.utcoffset() == timedelta(0) and text.endswith("+00:00"):
        text = text[: -len("+00:00")] + "Z"
    return text


def message_to_dict(message: TelemetryMessage) -> dict[str, object]:
    """The wire form of ``message`` (VSS names and units); absent signals are left out."""
    out: dict[str, object] = {
        VSS_KEY: message.vss_version,
        VEHICLE_ID: message.vehicle_id,
        SEQ: message.seq,
        TIMESTAMP: _iso(message.timestamp),
        LATITUDE: message.latitude_deg,
        LONGITUDE: message.longitude_deg,
    }
    optional: tuple[tuple[str, object], ...] = (
        (HEADING, message.heading_deg),
        (
            SPEED,
            None if message.speed_m_per_s is None else message.speed_m_per_s * KMH_PER_M_PER_S,
        ),
        (TRAVELED_DISTANCE, message.odometer_m),
        (STATE_OF_CHARGE, message.soc_pct),
        (RANGE, message.range_m),
        (IS_CHARGING, message.is_charging),
        (AIR_TEMPERATURE, message.air_temperature_c),
    )
    for key, value in optional:
        if value is not None:
            out[key] = value
    return out


def encode_message(message: TelemetryMessage) -> str:
    """``message`` as compact JSON text (the MQTT payload)."""
    return json.dumps(message_to_dict(message), separators=(",", ":"), allow_nan=False)


def encode_batch(messages: Sequence[TelemetryMessage]) -> str:
    """``messages`` as one JSON array (the HTTP batch body)."""
    return json.dumps(
        [message_to_dict(m) for m in messages], separators=(",", ":"), allow_nan=False
    )
