"""Feeds live tracking from the broker: a subscription to every van's telemetry topic.

The ingester (``evfleet ingest``) stores telemetry with QoS 1 and a persistent session;
this feed is the *live* path of ``evfleet serve --mqtt-url``: a separate, non-persistent
subscription (QoS 0, clean start) whose messages go straight to
:class:`~evfleet.live.LiveTracking` without waiting for a database batch, so that a
dashboard sees a fix as soon as the broker forwards it. Messages are decoded on paho's
network thread, which pushes each position at once, and tracked on a worker thread, which
takes everything queued at once (a burst becomes one batch with one transaction for its
events). A message that cannot be
decoded is counted and dropped here; the ingester dead-letters it.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from evfleet.ingest.mqtt import parse_mqtt_url
from evfleet.ingest.writer import Incoming, VehicleDirectory, decode_delivery
from evfleet.live.service import LiveTracking
from evfleet.store.models import utcnow
from evfleet.telemetry import TOPIC_FILTER, TelemetryMessage

__all__ = ["MqttLiveFeed"]

log = logging.getLogger("evfleet.live")


class MqttLiveFeed:
    """Subscribes to ``topic`` on the broker at ``url`` (``mqtt://user:pass@host:port``)
    and feeds ``live``; :meth:`start` and :meth:`stop` run it in the background."""

    def __init__(
        self,
        url: str,
        live: LiveTracking,
        directory: VehicleDirectory,
        *,
        topic: str = TOPIC_FILTER,
        client_id: str | None = None,
        max_queue: int = 100_000,
    ) -> None:
        self.broker = parse_mqtt_url(url)
        self.live = live
        self.directory = directory
        self.topic = topic
        self.received = 0
        self.dropped = 0
        self.rejected = 0
        self._queue: queue.Queue[tuple[Incoming, bool] | None] = queue.Queue(max_queue)
        self._thread: threading.Thread | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"evfleet-live-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv5,
        )
        if self.broker.username is not None:
            self.client.username_pw_set(self.broker.username, self.broker.password)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("live feed: broker refused the connection: %s", reason)
            return
        client.subscribe(self.topic, qos=0)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.received += 1
        now = utcnow()
        item = decode_delivery(message.topic, bytes(message.payload), now, self.directory)
        if not isinstance(item, Incoming):
            self.rejected += 1
            return
        # The position goes out from here at once; the tracking (a few hundred microseconds
        # a fix, and database work) follows on the worker thread.
        pushed = self.live.push_position(item.organisation_id, item.message, now)
        try:
            self._queue.put_nowait((item, pushed))
        except queue.Full:
            self.dropped += 1  # tracking is behind; the ingester still stores it

    def _run(self) -> None:
        while True:
            entry = self._queue.get()
            if entry is None:
                return
            # (organisation, pushed already) -> messages. A van not known yet when its fix
            # arrived (before the first refresh) was not pushed: tracking pushes it.
            batch: dict[tuple[uuid.UUID, bool], list[TelemetryMessage]] = {}
            stop = False
            while entry is not None:
                item, pushed = entry
                batch.setdefault((item.organisation_id, pushed), []).append(item.message)
                try:
                    entry = self._queue.get_nowait()
                except queue.Empty:
                    break
            else:
                stop = True
            for (org, pushed), messages in batch.items():
                self.live.handle(org, messages, push=not pushed)
            if stop:
                return

    def start(self) -> None:
        """Connects (retrying in the background) and starts tracking."""
        self._thread = threading.Thread(target=self._run, name="evfleet-live-feed", daemon=True)
        self._thread.start()
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnects and lets the worker finish what is queued."""
        self.client.disconnect()
        self.client.loop_stop()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(10)
