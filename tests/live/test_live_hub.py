"""The live hub: per-organisation fan-out, filters, positions conflated per van, and a
subscriber that falls behind on the other pushes is cut off (not the publisher)."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid

from evfleet.live import LiveHub, accepts_for

ORG, OTHER = uuid.uuid4(), uuid.uuid4()


def _vehicle(vid: str, seq: int) -> dict[str, object]:
    return {"type": "vehicle", "vehicle_id": vid, "seq": seq}


def test_fan_out_filters_and_conflation() -> None:
    async def main() -> None:
        hub = LiveHub(queue_size=100)
        everyone = hub.subscribe(ORG)
        driver = hub.subscribe(ORG, accepts_for({"van-1"}))
        stranger = hub.subscribe(OTHER)

        # From another thread, as the MQTT feed does: 50 fixes of two vans and one event.
        def publish() -> None:
            for seq in range(50):
                hub.publish(ORG, _vehicle("van-1", seq))
                hub.publish(ORG, _vehicle("van-2", seq))
            hub.publish(ORG, {"type": "event", "vehicle_id": "van-2", "kind": "stop-arrived"})

        thread = threading.Thread(target=publish)
        thread.start()
        thread.join()
        await asyncio.sleep(0.05)  # let the loop run the handed-over calls
        got = [json.loads(t) for t in await everyone.take()]
        assert got[0]["type"] == "event"  # in-order pushes first, then the newest positions
        assert [(g["vehicle_id"], g["seq"]) for g in got[1:]] == [("van-1", 49), ("van-2", 49)]
        mine = [json.loads(t) for t in await driver.take()]
        assert mine == [_vehicle("van-1", 49)]
        assert not stranger.ready.is_set()
        assert hub.subscribers(ORG) == 2
        hub.unsubscribe(driver)
        assert hub.subscribers(ORG) == 1

    asyncio.run(main())


def test_a_subscriber_behind_on_events_is_cut_off() -> None:
    async def main() -> None:
        hub = LiveHub(queue_size=10)
        slow = hub.subscribe(ORG)
        for k in range(11):
            hub.publish(ORG, {"type": "event", "kind": "stop-arrived", "n": k})
        await asyncio.sleep(0.05)
        assert slow.overflowed
        assert await slow.take() == []
        assert hub.publish(ORG, _vehicle("van-1", 1)) == 0  # no more for it

    asyncio.run(main())
