"""OSRM adapter against a real local HTTP server that speaks the Table and Route services.

The server (stdlib ``http.server`` on 127.0.0.1, ephemeral port, in a thread) answers over a
toy world: road distance = 1.3 × great circle, 10 m/s, and two islands (west and east of the
prime meridian) with no road between them, so cross-island cells are ``null`` and routes
``NoRoute``. Like osrm-routed it refuses tables of more than ``MAX_TABLE²`` cells
(sources × destinations). Profiles ``broken`` (HTTP 500, not JSON), ``strange`` (HTTP 200
with code ``"InvalidOptions"``), ``old`` (no distances, as before OSRM 5.18) and ``slow``
(answers after 1 s) exercise the errors; a latitude above 85° is ``NoSegment``.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np
import pytest

pytest.importorskip("httpx", reason="OsrmNetwork needs httpx")

from evfleet.network import LatLon, OsrmError, OsrmNetwork, RoadNetwork
from evfleet.network.osrm import DEFAULT_MAX_TABLE_SIZE

MAX_TABLE = 10
CIRCUITY = 1.3
SPEED_MS = 10.0


def great_circle_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine in metres, (lon, lat) in degrees: the server's own, independent of evfleet."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def same_island(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return (a[0] < 0) == (b[0] < 0)


@dataclass
class Request:
    service: str
    profile: str
    coordinates: list[tuple[float, float]]
    query: dict[str, str]
    sources: list[int] = field(default_factory=list)
    destinations: list[int] = field(default_factory=list)


@dataclass
class ToyOsrm:
    base_url: str
    requests: list[Request] = field(default_factory=list)


def parse(path: str) -> Request:
    parts = urlsplit(path)
    _, service, _version, profile, coords = parts.path.split("/", 4)
    coordinates = [
        (float(lon), float(lat))
        for lon, lat in (pair.split(",") for pair in unquote(coords).split(";"))
    ]
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    everything = list(range(len(coordinates)))
    sources = [int(i) for i in query["sources"].split(";")] if "sources" in query else everything
    destinations = (
        [int(i) for i in query["destinations"].split(";")]
        if "destinations" in query
        else everything
    )
    return Request(service, profile, coordinates, query, sources, destinations)


def table(request: Request) -> tuple[int, dict[str, Any]]:
    if len(request.sources) * len(request.destinations) > MAX_TABLE**2:
        return 400, {"code": "TooBig", "message": "Too many table coordinates"}
    durations: list[list[float | None]] = []
    distances: list[list[float | None]] = []
    for s in request.sources:
        durations.append([])
        distances.append([])
        for d in request.destinations:
            a, b = request.coordinates[s], request.coordinates[d]
            metres = CIRCUITY * great_circle_m(a, b) if same_island(a, b) else None
            distances[-1].append(metres)
            durations[-1].append(None if metres is None else metres / SPEED_MS)
    body: dict[str, Any] = {"code": "Ok", "durations": durations}
    if request.profile != "old" and "distance" in request.query.get("annotations", ""):
        body["distances"] = distances
    return 200, body


def route(request: Request) -> tuple[int, dict[str, Any]]:
    (lon_a, lat_a), (lon_b, lat_b) = request.coordinates
    if not same_island((lon_a, lat_a), (lon_b, lat_b)):
        return 400, {"code": "NoRoute", "message": "Impossible route between points"}
    corner = [lon_b, lat_a]  # an L-shaped road: east-west, then north-south
    line = [[lon_a, lat_a], corner, [lon_b, lat_b]]
    return 200, {
        "code": "Ok",
        "routes": [{"geometry": {"type": "LineString", "coordinates": line}}],
    }


class Handler(BaseHTTPRequestHandler):
    server: ToyServer

    def do_GET(self) -> None:
        request = parse(self.path)
        self.server.state.requests.append(request)
        if request.profile == "broken":
            self.reply(500, b"internal failure", "text/plain")
            return
        if request.profile == "slow":
            time.sleep(1.0)
        if request.profile == "strange":
            self.json(200, {"code": "InvalidOptions", "message": "options are strange"})
            return
        for index, (_, lat) in enumerate(request.coordinates):
            if lat > 85.0:
                message = f"Could not find a matching segment for coordinate {index}"
                self.json(400, {"code": "NoSegment", "message": message})
                return
        if request.service == "table":
            self.json(*table(request))
        elif request.service == "route":
            self.json(*route(request))
        else:
            self.json(400, {"code": "InvalidService", "message": "no such service"})

    def json(self, status: int, body: dict[str, Any]) -> None:
        self.reply(status, json.dumps(body).encode(), "application/json")

    def reply(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(payload)  # the client may have given up (timeout test)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the requests are in ``state.requests``."""


class ToyServer(ThreadingHTTPServer):
    daemon_threads = True
    state: ToyOsrm


@pytest.fixture
def server() -> Iterator[ToyOsrm]:
    httpd = ToyServer(("127.0.0.1", 0), Handler)
    host, port = httpd.server_address[:2]
    httpd.state = ToyOsrm(base_url=f"http://{host!s}:{port}")
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield httpd.state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def scattered(n: int, seed: int = 0, west: int = 0) -> list[LatLon]:
    """``n`` points in Helsinki (east island); the last ``west`` ones at lon −0.1 (west)."""
    rng = np.random.default_rng(seed)
    points = [
        LatLon(float(a), float(b)) for a, b in rng.uniform((60.1, 24.8), (60.3, 25.1), (n, 2))
    ]
    for k in range(n - west, n):
        points[k] = LatLon(51.5 + 0.001 * k, -0.1)
    return points


def expected(points: list[LatLon]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    n = len(points)
    distance = np.zeros((n, n))
    for i, a in enumerate(points):
        for j, b in enumerate(points):
            if i != j:
                ab = ((a.lon, a.lat), (b.lon, b.lat))
                distance[i, j] = CIRCUITY * great_circle_m(*ab) if same_island(*ab) else math.inf
    return distance, distance / SPEED_MS


def test_small_table_is_one_request(server: ToyOsrm) -> None:
    points = scattered(6)
    with OsrmNetwork(server.base_url, max_table_size=MAX_TABLE) as network:
        assert isinstance(network, RoadNetwork)
        assert network.name == f"osrm:{server.base_url}"
        result = network.matrices(points)
    distance, duration = expected(points)
    np.testing.assert_allclose(result.distance_m, distance, atol=0.5)  # 6-decimal coords
    np.testing.assert_allclose(result.duration_s, duration, atol=0.05)
    assert len(server.requests) == 1
    (request,) = server.requests
    assert request.service == "table" and request.profile == "driving"
    assert request.query["annotations"] == "duration,distance"
    assert "sources" not in request.query and "destinations" not in request.query
    # coordinates go as lon,lat
    assert request.coordinates[0] == pytest.approx((points[0].lon, points[0].lat), abs=1e-6)


def test_large_tables_go_in_blocks_within_the_limit(server: ToyOsrm) -> None:
    points = scattered(25, seed=1, west=3)  # blocks of 10, 10, 5; three points unreachable
    result = OsrmNetwork(server.base_url, max_table_size=MAX_TABLE).matrices(points)
    distance, duration = expected(points)
    np.testing.assert_allclose(result.distance_m, distance, atol=0.5)  # 6-decimal coords
    np.testing.assert_allclose(result.duration_s, duration, atol=0.05)
    assert np.isinf(result.duration_s[0, 24]) and np.isinf(result.distance_m[24, 0])
    assert result.duration_s[23, 24] < math.inf  # both west
    assert (np.diag(result.duration_s) == 0).all()

    assert len(server.requests) == 9  # every pair of 3 blocks, none refused as TooBig
    blocks = {
        (tuple(r.sources), tuple(r.destinations), len(r.coordinates)) for r in server.requests
    }
    assert ((*range(10),), (*range(10, 20),), 20) in blocks  # an off-diagonal block
    assert ((*range(5),), (*range(5),), 5) in blocks  # the last diagonal block, no params
    for request in server.requests:
        assert len(request.sources) * len(request.destinations) <= MAX_TABLE**2


def test_empty_and_single_point_need_no_request(server: ToyOsrm) -> None:
    network = OsrmNetwork(server.base_url)
    assert network.matrices([]).distance_m.shape == (0, 0)
    assert network.matrices([LatLon(60.0, 25.0)]).duration_s.tolist() == [[0.0]]
    assert server.requests == []
    assert network.max_table_size == DEFAULT_MAX_TABLE_SIZE


def test_route_geometry(server: ToyOsrm) -> None:
    a, b = LatLon(60.17, 24.94), LatLon(60.19, 24.97)
    network = OsrmNetwork(server.base_url + "/", profile="car")  # trailing slash is fine
    line = network.route_geometry(a, b)
    assert line == [a, LatLon(60.17, 24.97), b]
    (request,) = server.requests
    assert request.service == "route" and request.profile == "car"
    assert request.query == {"overview": "full", "geometries": "geojson"}
    # no road between the islands: the straight segment
    west = LatLon(51.5, -0.1)
    assert network.route_geometry(a, west) == [a, west]


def test_error_answers_name_the_request(server: ToyOsrm) -> None:
    points = scattered(3)
    with pytest.raises(OsrmError, match=r"HTTP 500 \(internal failure\).*/table/v1/broken/") as err:
        OsrmNetwork(server.base_url, profile="broken").matrices(points)
    assert err.value.status == 500 and err.value.code is None

    with pytest.raises(OsrmError, match="OSRM code 'InvalidOptions': options are strange") as err:
        OsrmNetwork(server.base_url, profile="strange").matrices(points)
    assert err.value.code == "InvalidOptions" and err.value.status == 200

    bad = [*points, LatLon(89.0, 0.0)]
    with pytest.raises(OsrmError, match=r"NoSegment: Could not find .* coordinate 3") as err:
        OsrmNetwork(server.base_url).matrices(bad)
    assert err.value.code == "NoSegment" and err.value.status == 400
    assert "/table/v1/driving/" in err.value.url
    assert "(4 coordinates)" in err.value.url  # long coordinate lists are abridged

    with pytest.raises(OsrmError, match=r"no 'distances'.*5\.18"):
        OsrmNetwork(server.base_url, profile="old").matrices(points)

    with pytest.raises(OsrmError, match=r"NoSegment.*/route/v1/driving/"):
        OsrmNetwork(server.base_url).route_geometry(points[0], LatLon(89.0, 0.0))

    # a server limit below ours: the block is refused, and the error says so
    with pytest.raises(OsrmError, match="TooBig"):
        OsrmNetwork(server.base_url, max_table_size=MAX_TABLE + 1).matrices(scattered(11))


def test_transport_errors(server: ToyOsrm) -> None:
    with pytest.raises(OsrmError, match=r"no answer within 0.2 s.*/table/v1/slow/"):
        OsrmNetwork(server.base_url, profile="slow", timeout_s=0.2).matrices(scattered(2))
    # nobody listens on a port we just closed
    probe = ToyServer(("127.0.0.1", 0), Handler)
    port = probe.server_address[1]
    probe.server_close()
    with pytest.raises(OsrmError, match="request failed"):
        OsrmNetwork(f"http://127.0.0.1:{port}").matrices(scattered(2))


def test_argument_validation() -> None:
    with pytest.raises(ValueError, match="http"):
        OsrmNetwork("localhost:5000")
    with pytest.raises(ValueError, match="profile"):
        OsrmNetwork("http://localhost:5000", profile="a/b")
    with pytest.raises(ValueError, match="max_table_size"):
        OsrmNetwork("http://localhost:5000", max_table_size=0)
    with pytest.raises(ValueError, match="timeout_s"):
        OsrmNetwork("http://localhost:5000", timeout_s=0)
