"""Publishers (MQTT, HTTP, JSON lines) and the clock that paces a simulation (the I/O side).

:func:`play` sends a simulation's deliveries in order: with ``speedup`` > 0 a delivery due at
simulated time ``s`` goes out ``(s − start_s) / speedup`` wall-clock seconds after the start
(``--speedup 60``: one simulated minute per second); with 0, as fast as possible. Messages
that fall due together are handed to the publisher as one batch; a publisher with a
``linger_s`` (HTTP) gathers them for up to that long (wall s) to make fewer, larger requests.

* :class:`MqttPublisher`: paho-mqtt, one publish per message on
  ``evfleet/<org>/vehicles/<vehicle_id>/telemetry``, QoS 1, not retained. One client
  connection carries every van (a gateway); ``mqtt://user:password@host:port`` or
  ``mqtts://`` for TLS.
* :class:`HttpPublisher`: ``POST {base}/api/v1/telemetry``, body a JSON array of at most
  :data:`~evfleet.telemetry.MAX_BATCH` messages, ``Authorization: Bearer <key>`` (one key for
  all, or one per vehicle, then one request per vehicle), expecting 202; 429 and 5xx are
  retried with backoff.
* :class:`JsonLinesPublisher`: one message per line (the wire form) to a file or stdout.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

from evfleet.errors import EvfleetError
from evfleet.simulator.faults import Delivery

if TYPE_CHECKING:
    import httpx
from evfleet.telemetry import (
    MAX_BATCH,
    TelemetryMessage,
    encode_batch,
    encode_message,
    telemetry_topic,
)

__all__ = [
    "HttpPublisher",
    "JsonLinesPublisher",
    "MqttPublisher",
    "PlayStats",
    "PublishError",
    "Publisher",
    "play",
]


class PublishError(EvfleetError):
    """A message could not be delivered (broker or server unreachable, request refused)."""


class Publisher(Protocol):
    """Sends batches of telemetry messages somewhere."""

    linger_s: float
    """How long (wall s) due messages may wait to be sent together; 0: at once."""

    def send(self, messages: Sequence[TelemetryMessage]) -> None:
        """Sends ``messages`` (in order); :class:`PublishError` when they cannot be."""
        ...

    def close(self) -> None:
        """Flushes what is in flight and releases the connection."""
        ...


# ------------------------------------------------------------------------------ JSON lines


class JsonLinesPublisher:
    """Writes each message as one line of JSON (the wire form) to ``target``: a path or an
    open text stream (``None``: standard output)."""

    linger_s = 0.0

    def __init__(self, target: str | Path | IO[str] | None = None) -> None:
        self._own = isinstance(target, str | Path)
        if isinstance(target, str | Path):
            self._stream: IO[str] = open(target, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        else:
            self._stream = target if target is not None else sys.stdout
        self.count = 0

    def send(self, messages: Sequence[TelemetryMessage]) -> None:
        for m in messages:
            self._stream.write(encode_message(m) + "\n")
        self.count += len(messages)
        self._stream.flush()

    def close(self) -> None:
        if self._own:
            self._stream.close()
        else:
            self._stream.flush()


# ------------------------------------------------------------------------------------ MQTT


@dataclass(frozen=True)
class MqttTarget:
    """A broker from an ``mqtt://`` / ``mqtts://`` URL (port default 1883 / 8883)."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> MqttTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise PublishError(f"{url!r} is not an mqtt://host[:port] or mqtts:// URL")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise PublishError(f"{url!r}: bad port") from None
        return cls(
            parts.hostname,
            port,
            tls,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )


class MqttPublisher:
    """Publishes each message on its van's topic with QoS 1 (paho-mqtt 2).

    ``connect_timeout_s``: how long to wait for the broker's CONNACK; ``close`` waits up to
    ``flush_timeout_s`` for the PUBACKs of the messages still in flight.
    """

    linger_s = 0.0

    def __init__(
        self,
        url: str,
        org: str,
        *,
        client_id: str = "",
        connect_timeout_s: float = 10.0,
        flush_timeout_s: float = 30.0,
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.target = MqttTarget.parse(url)
        self.org = org
        telemetry_topic(org, "check")  # a bad org fails here, not at the first message
        self.flush_timeout_s = flush_timeout_s
        self._connected = threading.Event()
        self._refused: str | None = None
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self.count = 0
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        client.max_queued_messages_set(0)
        if self.target.username is not None:
            client.username_pw_set(self.target.username, self.target.password)
        if self.target.tls:
            client.tls_set()

        def on_connect(
            client: mqtt.Client, userdata: object, flags: object, reason: object, props: object
        ) -> None:
            if getattr(reason, "is_failure", False):
                self._refused = str(reason)
            self._connected.set()

        client.on_connect = on_connect
        self._client = client
        where = f"{self.target.host}:{self.target.port}"
        try:
            client.connect(self.target.host, self.target.port, keepalive=30)
        except (OSError, ValueError) as exc:
            raise PublishError(f"MQTT broker {where}: cannot connect ({exc})") from None
        client.loop_start()
        if not self._connected.wait(connect_timeout_s):
            self._stop()
            raise PublishError(f"MQTT broker {where}: no answer in {connect_timeout_s:g} s")
        if self._refused is not None:
            self._stop()
            raise PublishError(f"MQTT broker {where} refused the connection: {self._refused}")

    def send(self, messages: Sequence[TelemetryMessage]) -> None:
        for m in messages:
            info = self._client.publish(
                telemetry_topic(self.org, m.vehicle_id), encode_message(m), qos=1
            )
            if info.rc != 0:
                raise PublishError(f"MQTT publish failed (paho error {info.rc})")
            self._pending.append(info)
            self.count += 1
        self._pending = [i for i in self._pending if not i.is_published()]

    def close(self) -> None:
        deadline = time.monotonic() + self.flush_timeout_s
        try:
            for info in self._pending:
                info.wait_for_publish(max(deadline - time.monotonic(), 0.0))
            unacked = sum(1 for i in self._pending if not i.is_published())
        finally:
            self._client.disconnect()
            self._stop()
        if unacked:
            raise PublishError(f"{unacked} MQTT message(s) not acknowledged by the broker")

    def _stop(self) -> None:
        self._client.loop_stop()


# ------------------------------------------------------------------------------------ HTTP


class HttpPublisher:
    """Posts batches to ``{base_url}/api/v1/telemetry`` with a bearer key; expects 202.

    ``api_key``: one key for every van, or vehicle id → key (a vehicle-bound key may only
    write its own telemetry; then each batch is split by vehicle). ``retries`` for 429 and
    5xx answers and connection errors, with exponential backoff from ``backoff_s``.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | Mapping[str, str],
        *,
        linger_s: float = 1.0,
        timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.url = base_url.rstrip("/") + "/api/v1/telemetry"
        self.api_key = api_key
        self.linger_s = linger_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.count = 0
        self.requests = 0
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def _key(self, vehicle_id: str) -> str:
        if isinstance(self.api_key, str):
            return self.api_key
        try:
            return self.api_key[vehicle_id]
        except KeyError:
            raise PublishError(f"no API key for vehicle {vehicle_id!r}") from None

    def send(self, messages: Sequence[TelemetryMessage]) -> None:
        groups: dict[str, list[TelemetryMessage]] = {}
        for m in messages:
            key = self._key(m.vehicle_id)
            groups.setdefault(key, []).append(m)
        for key, group in groups.items():
            for k in range(0, len(group), MAX_BATCH):
                self._post(key, group[k : k + MAX_BATCH])

    def _post(self, key: str, batch: Sequence[TelemetryMessage]) -> None:
        import httpx

        body = encode_batch(batch)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                if last:
                    raise PublishError(f"POST {self.url}: {exc}") from None
            else:
                self.requests += 1
                if response.status_code == 202:
                    self.count += len(batch)
                    return
                retry = response.status_code == 429 or response.status_code >= 500
                if last or not retry:
                    raise PublishError(
                        f"POST {self.url}: {response.status_code} {_detail(response.text)}"
                    )
            time.sleep(self.backoff_s * 2**attempt)

    def close(self) -> None:
        self._client.close()


def _detail(text: str) -> str:
    """The ``detail`` of a problem+json answer, or the start of the body."""
    try:
        doc = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(doc, dict) and isinstance(doc.get("detail"), str):
        return str(doc["detail"])
    return text[:200]


# ------------------------------------------------------------------------------- pacing


@dataclass
class PlayStats:
    """What :func:`play` sent: messages, batches and the wall-clock time it took (s)."""

    messages: int = 0
    batches: int = 0
    wall_s: float = 0.0


def play(
    deliveries: Iterable[Delivery],
    publisher: Publisher,
    *,
    start_s: float,
    speedup: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_batch: Callable[[Sequence[TelemetryMessage]], None] | None = None,
) -> PlayStats:
    """Sends ``deliveries`` (in sending order) through ``publisher`` in scaled real time.

    ``start_s``: the simulated instant (s since midnight) that maps to now; ``speedup``:
    simulated s per wall s (0: no waiting). ``clock``/``sleep`` are injectable for tests;
    ``on_batch`` sees each batch after it was sent. The publisher is not closed here.
    """
    if speedup < 0:
        raise ValueError("speedup must be >= 0")
    stats = PlayStats()
    wall0 = clock()
    last_flush = wall0
    pending: list[TelemetryMessage] = []

    def flush() -> None:
        nonlocal last_flush
        if pending:
            publisher.send(pending)
            stats.messages += len(pending)
            stats.batches += 1
            if on_batch is not None:
                on_batch(list(pending))
            pending.clear()
        last_flush = clock()

    for d in deliveries:
        if speedup > 0:
            due = wall0 + (d.send_s - start_s) / speedup
            now = clock()
            if due > now:
                if pending and due - last_flush >= publisher.linger_s:
                    flush()
                    now = clock()
                if due > now:
                    sleep(due - now)
        pending.append(d.message)
        if len(pending) >= MAX_BATCH:
            flush()
    flush()
    stats.wall_s = clock() - wall0
    return stats
