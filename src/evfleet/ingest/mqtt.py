"""The MQTT consumer: paho-mqtt 2, MQTT 5, QoS 1, a persistent session, acknowledgement
after commit.

* **Persistent session**: a fixed client id, ``clean_start=False`` and a session expiry
  interval (:data:`SESSION_EXPIRY_S`), so that while the ingester is away (restart, broker
  restart with persistence on) the broker keeps its subscription and queues its QoS 1
  messages.
* **Manual acknowledgement**: paho's ``manual_ack`` holds back each PUBACK until the batch
  holding the message is committed (:class:`~evfleet.ingest.writer.BatchWriter`'s
  ``on_commit``). A message whose batch was not committed when the connection dropped is
  redelivered by the broker; the database key drops the copy. Acknowledgements are tagged
  with the connection they came on and never sent on a later connection (a packet id may
  be reused there). So the only loss window is the broker's, not ours: a broker killed
  without saving its persistence file, or one that drops queued messages beyond its
  ``max_queued_messages``.
* **Flow control**: the consumer asks for a Receive Maximum of ``receive_maximum`` (MQTT 5),
  the number of unacknowledged messages the broker may have in flight to it; it must exceed
  the batch size, since nothing is acknowledged before a batch is full or old enough.
* **Reconnection**: paho reconnects with exponential back-off (``reconnect_delay_set``,
  1 s doubling to 30 s); the database side retries with back-off in the writer, which keeps
  the batch (and holds its acknowledgements) until the database is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from evfleet.ingest.writer import BatchWriter
from evfleet.telemetry import TOPIC_FILTER

__all__ = ["SESSION_EXPIRY_S", "BrokerAddress", "MqttIngester", "parse_mqtt_url"]

log = logging.getLogger("evfleet.ingest")

SESSION_EXPIRY_S = 7 * 24 * 3600
"""How long the broker keeps the ingester's session (and queues for it) while it is away."""


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None


def parse_mqtt_url(url: str) -> BrokerAddress:
    """``mqtt://[user[:password]@]host[:port]`` (default port 1883)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"{url!r}: use mqtt://host:port")
    if not parts.hostname:
        raise ValueError(f"{url!r} names no host")
    return BrokerAddress(parts.hostname, parts.port or 1883, parts.username, parts.password)


@dataclass(frozen=True)
class _Token:
    generation: int
    mid: int
    qos: int


class MqttIngester:
    """Subscribes to ``topic`` and feeds a :class:`BatchWriter`, acknowledging after commit.

    ``start()`` connects in the background (retrying until the broker answers) and starts
    the writer; ``stop()`` writes what is buffered, acknowledges it and disconnects.
    """

    def __init__(
        self,
        broker: BrokerAddress,
        writer: BatchWriter,
        *,
        client_id: str = "evfleet-ingest",
        topic: str = TOPIC_FILTER,
        receive_maximum: int = 20_000,
        keepalive_s: int = 30,
        reconnect_delay_s: tuple[int, int] = (1, 30),
    ) -> None:
        self.broker = broker
        self.writer = writer
        self.topic = topic
        self.receive_maximum = receive_maximum
        self.keepalive_s = keepalive_s
        self.received = 0
        self.connections = 0
        self.connected = threading.Event()
        self._generation = 0
        self._lock = threading.Lock()
        writer.on_commit = self._acknowledge
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if broker.username is not None:
            self.client.username_pw_set(broker.username, broker.password)
        self.client.reconnect_delay_set(*reconnect_delay_s)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # ------------------------------------------------------------------- callbacks

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.warning("MQTT connection refused: %s", reason)
            return
        with self._lock:
            self._generation += 1
        self.connections += 1
        client.subscribe(self.topic, qos=1)
        log.info("MQTT connected (session present: %s)", _flags.session_present)
        self.connected.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        self.connected.clear()
        with self._lock:
            self._generation += 1  # acknowledgements of that connection are void now
        log.warning("MQTT disconnected (%s); paho reconnects with back-off", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.received += 1
        token = _Token(self._generation, message.mid, message.qos)
        self.writer.put(message.topic, bytes(message.payload), token)

    def _acknowledge(self, tokens: list[object]) -> None:
        with self._lock:
            generation = self._generation
        for token in tokens:
            if isinstance(token, _Token) and token.qos > 0 and token.generation == generation:
                self.client.ack(token.mid, token.qos)

    # ------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Connects (in the background, with back-off) and starts consuming."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = self.receive_maximum
        self.writer.start()
        self.client.connect_async(
            self.broker.host,
            self.broker.port,
            keepalive=self.keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self.client.loop_start()

    def stop(self) -> None:
        """Writes and acknowledges what is buffered, then disconnects."""
        self.writer.stop(drain=True)
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self, should_stop: Callable[[], bool] | None = None) -> None:
        """Runs until ``should_stop()`` or Ctrl-C."""
        self.start()
        stop = threading.Event()
        try:
            while not stop.wait(1.0):
                if should_stop is not None and should_stop():
                    break
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
