"""Road network served by an OSRM-compatible HTTP server (Table and Route services).

* Matrices: ``GET {base}/table/v1/{profile}/{lon,lat;...}?annotations=duration,distance``.
  OSRM refuses a table of more than ``max-table-size²`` cells (``osrm-routed
  --max-table-size``, default 100), counted as sources × destinations. Up to
  ``max_table_size`` points go in one request; more are cut into blocks of
  ``max_table_size`` and every pair of blocks is one request with ``sources`` and
  ``destinations`` parameters (``⌈N / max_table_size⌉²`` requests, each within the limit).
* Geometry: ``GET {base}/route/v1/{profile}/{lon,lat;lon,lat}?overview=full&geometries=geojson``;
  ``NoRoute`` gives the straight segment.

Distances are metres and durations seconds, as OSRM returns them; a ``null`` cell (no
route) becomes ``inf``. ``annotations=distance`` needs OSRM 5.18 or later. Every failure
(transport, HTTP status, ``code`` other than ``"Ok"``, malformed answer) raises
:class:`OsrmError` naming the request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx
import numpy as np

from evfleet.errors import EvfleetError
from evfleet.network.base import (
    FloatMatrix,
    LatLon,
    TravelMatrices,
    check_positive,
    points_array,
    straight_segment,
)

#: ``osrm-routed``'s default ``--max-table-size``.
DEFAULT_MAX_TABLE_SIZE = 100
DEFAULT_TIMEOUT_S = 30.0
#: Coordinates shown in an error message before the rest is summarised.
_SHOWN_COORDINATES = 3


class OsrmError(EvfleetError):
    """An OSRM request failed; ``url`` is the request (coordinates abridged), ``code`` the
    OSRM code (``"TooBig"``, ``"NoSegment"`` …) or ``None``, ``status`` the HTTP status or
    ``None`` when no answer came."""

    def __init__(
        self, message: str, *, url: str, code: str | None = None, status: int | None = None
    ) -> None:
        self.url = url
        self.code = code
        self.status = status
        super().__init__(f"{message} [GET {url}]")


def _coordinates(array: FloatMatrix) -> str:
    """``lon,lat;lon,lat…`` with 6 decimals (≈ 0.1 m)."""
    return ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in array)


def _abridge(url: str) -> str:
    """The URL with a long coordinate list cut to its first few entries and a count."""
    path, question, query = url.partition("?")
    head, slash, coords = path.rpartition("/")
    entries = coords.split(";")
    if len(entries) > _SHOWN_COORDINATES:
        coords = ";".join(entries[:_SHOWN_COORDINATES]) + f";…({len(entries)} coordinates)"
    return head + slash + coords + question + query


def _matrix(body: dict[str, Any], key: str, rows: int, cols: int, url: str) -> FloatMatrix:
    """``body[key]`` as a ``rows × cols`` float matrix, ``null`` as ``inf``."""
    if key not in body:
        hint = " (annotations=distance needs OSRM 5.18 or later)" if key == "distances" else ""
        raise OsrmError(f"answer has no {key!r}{hint}", url=url)
    table = body[key]
    if not isinstance(table, list) or len(table) != rows:
        raise OsrmError(f"{key!r} should have {rows} rows", url=url)
    result = np.empty((rows, cols), dtype=np.float64)
    for i, row in enumerate(table):
        if not isinstance(row, list) or len(row) != cols:
            raise OsrmError(f"{key!r} row {i} should have {cols} entries", url=url)
        try:
            result[i] = [math.inf if value is None else float(value) for value in row]
        except (TypeError, ValueError) as exc:
            raise OsrmError(f"{key!r} row {i} holds a non-number: {exc}", url=url) from exc
    return result


class OsrmNetwork:
    """Travel matrices and geometry from an OSRM(-compatible) server at ``base_url``.

    ``profile`` is the URL's profile part (``driving``; servers started from other profiles
    often accept any name). ``timeout_s`` bounds each request (seconds). ``max_table_size``
    must not exceed the server's ``--max-table-size``. Use as a context manager, or call
    :meth:`close`, to release the connection pool; ``client`` supplies your own
    :class:`httpx.Client` (then closing it is yours).
    """

    def __init__(
        self,
        base_url: str,
        profile: str = "driving",
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_table_size: int = DEFAULT_MAX_TABLE_SIZE,
        client: httpx.Client | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if not profile or "/" in profile:
            raise ValueError(f"profile must be a single URL segment, got {profile!r}")
        if max_table_size < 1:
            raise ValueError(f"max_table_size must be at least 1, got {max_table_size}")
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.timeout_s = check_positive("timeout_s", timeout_s)
        self.max_table_size = int(max_table_size)
        self._own_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=self.timeout_s)

    @property
    def name(self) -> str:
        """``"osrm:<base url>"``."""
        return f"osrm:{self.base_url}"

    def __repr__(self) -> str:
        return f"OsrmNetwork({self.base_url!r}, profile={self.profile!r})"

    def close(self) -> None:
        """Close the HTTP connection pool (when this object created it)."""
        if self._own_client:
            self._client.close()

    def __enter__(self) -> OsrmNetwork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the RoadNetwork interface ----------------------------------------------------------

    def matrices(self, points: Sequence[LatLon]) -> TravelMatrices:
        """Distance (m) and duration (s) matrices from the Table service, in blocks."""
        array = points_array(points)
        n = array.shape[0]
        distance = np.zeros((n, n), dtype=np.float64)
        duration = np.zeros((n, n), dtype=np.float64)
        if n <= 1:
            return TravelMatrices(distance_m=distance, duration_s=duration)
        size = self.max_table_size
        blocks = [range(start, min(n, start + size)) for start in range(0, n, size)]
        for rows in blocks:
            for cols in blocks:
                block_duration, block_distance = self._table(array, rows, cols)
                duration[rows.start : rows.stop, cols.start : cols.stop] = block_duration
                distance[rows.start : rows.stop, cols.start : cols.stop] = block_distance
        np.fill_diagonal(distance, 0.0)
        np.fill_diagonal(duration, 0.0)
        return TravelMatrices(distance_m=distance, duration_s=duration)

    def route_geometry(self, a: LatLon, b: LatLon) -> list[LatLon]:
        """The road polyline of the Route service's first route; ``[a, b]`` on ``NoRoute``."""
        array = points_array([a, b])
        url = (
            f"{self.base_url}/route/v1/{self.profile}/{_coordinates(array)}"
            "?overview=full&geometries=geojson"
        )
        body = self._get(url, tolerate=("NoRoute",))
        if body.get("code") == "NoRoute":
            return straight_segment(a, b)
        try:
            coordinates = body["routes"][0]["geometry"]["coordinates"]
            line = [LatLon(float(lat), float(lon)) for lon, lat, *_ in coordinates]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise OsrmError(
                f"route answer without a GeoJSON line in routes[0].geometry: {exc!r}",
                url=_abridge(url),
            ) from exc
        if len(line) < 2:
            return straight_segment(a, b)
        return line

    # -- internals ---------------------------------------------------------------------------

    def _table(
        self, array: FloatMatrix, rows: range, cols: range
    ) -> tuple[FloatMatrix, FloatMatrix]:
        """Durations and distances from points ``rows`` to points ``cols``, one request."""
        query = "annotations=duration,distance"
        if rows == cols:
            coordinates = array[rows.start : rows.stop]
        else:
            coordinates = np.concatenate(
                (array[rows.start : rows.stop], array[cols.start : cols.stop])
            )
            sources = ";".join(str(i) for i in range(len(rows)))
            destinations = ";".join(str(i) for i in range(len(rows), len(rows) + len(cols)))
            query += f"&sources={sources}&destinations={destinations}"
        url = f"{self.base_url}/table/v1/{self.profile}/{_coordinates(coordinates)}?{query}"
        body = self._get(url)
        shown = _abridge(url)
        return (
            _matrix(body, "durations", len(rows), len(cols), shown),
            _matrix(body, "distances", len(rows), len(cols), shown),
        )

    def _get(self, url: str, tolerate: tuple[str, ...] = ()) -> dict[str, Any]:
        """The JSON object answered to ``GET url``; :class:`OsrmError` unless its ``code``
        is ``"Ok"`` or one of ``tolerate``. The query is sent as written (``;`` and ``,``
        unescaped, as OSRM documents them)."""
        shown = _abridge(url)
        try:
            response = self._client.get(url, timeout=self.timeout_s)
        except httpx.TimeoutException as exc:
            raise OsrmError(f"no answer within {self.timeout_s:g} s", url=shown) from exc
        except httpx.HTTPError as exc:
            raise OsrmError(f"request failed: {exc}", url=shown) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        if response.status_code != 200 and code not in tolerate:
            detail = f"{code}: {message}" if code else response.text[:200].strip()
            raise OsrmError(
                f"HTTP {response.status_code} ({detail})",
                url=shown,
                code=code if isinstance(code, str) else None,
                status=response.status_code,
            )
        if not isinstance(body, dict):
            raise OsrmError("answer is not a JSON object", url=shown, status=response.status_code)
        if code != "Ok" and code not in tolerate:
            raise OsrmError(
                f"OSRM code {code!r}" + (f": {message}" if message else ""),
                url=shown,
                code=code if isinstance(code, str) else None,
                status=response.status_code,
            )
        return body
