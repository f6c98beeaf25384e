"""The front end's routes (evfleet.web.mount_web): pages, hashed assets, the tracking page,
the 503 before the bundle is built, and that nothing under /api/v1 is shadowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from evfleet.api.app import create_app
from evfleet.api.deps import services_of_app
from evfleet.api.settings import Settings
from evfleet.web import BUILD_HINT, STATIC_DIR, mount_web

INDEX = '<!doctype html><title>dash</title><script type="module" src="/assets/index-abc.js">'
TRACK = '<!doctype html><title>track</title><script type="module" src="/assets/track-def.js">'


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A stand-in for the Vite build: two pages and a few hashed assets."""
    root = tmp_path / "static"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX, encoding="utf-8")
    (root / "track.html").write_text(TRACK, encoding="utf-8")
    (root / "assets" / "index-abc.js").write_text("console.log('dash');\n", encoding="utf-8")
    (root / "assets" / "track-def.js").write_text("console.log('track');\n", encoding="utf-8")
    (root / "assets" / "index-abc.css").write_text("body{margin:0}\n", encoding="utf-8")
    (root / "assets" / "layers-x1.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "secret.txt").write_text("outside the bundle", encoding="utf-8")
    return root


def _app(static_dir: Path) -> FastAPI:
    app = FastAPI()
    mount_web(app, static_dir=static_dir)

    @app.get("/api/v1/things/{thing}")
    def thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    @app.get("/api/v1/track/{token}")
    def track_api(token: str) -> dict[str, str]:
        return {"status": "delivered", "token": token}

    return app


@pytest.fixture
def client(bundle: Path) -> TestClient:
    return TestClient(_app(bundle))


def test_index_is_served_at_the_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "connect-src 'self' ws: wss:" in csp
    assert client.head("/").status_code == 200


def test_hashed_assets_are_served_with_long_cache_headers(client: TestClient) -> None:
    script = client.get("/assets/index-abc.js")
    assert script.status_code == 200
    assert script.text == "console.log('dash');\n"
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert script.headers["x-content-type-options"] == "nosniff"
    style = client.get("/assets/index-abc.css")
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    image = client.get("/assets/layers-x1.png")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert client.head("/assets/index-abc.js").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/assets/missing-000.js",
        "/assets/",
        "/assets/%2e%2e/index.html",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/assets/..%2Fsecret.txt",
        "/assets/.hidden",
        "/assets/sub/%2e%2e/index-abc.js",
    ],
)
def test_nothing_outside_the_assets_is_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "outside the bundle" not in response.text
    assert INDEX not in response.text


def test_tracking_page_is_served_for_any_token(client: TestClient) -> None:
    response = client.get("/track/Zx9-abcdefghijklmnop")
    assert response.status_code == 200
    assert response.text == TRACK
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"
    assert "noindex" in response.headers["x-robots-tag"]
    assert client.get("/track/").status_code == 404


def test_the_api_is_not_shadowed(client: TestClient) -> None:
    assert client.get("/api/v1/things/depots").json() == {"thing": "depots"}
    assert client.get("/api/v1/track/abc").json() == {"status": "delivered", "token": "abc"}
    unknown = client.get("/api/v1/unknown")
    assert unknown.status_code == 404
    assert INDEX not in unknown.text


def test_unbuilt_bundle_answers_503_with_how_to_build_it(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path / "not-built"))
    for path in ("/", "/track/abcdefghijklmnopq"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == BUILD_HINT
        assert "scripts/build_web.sh" in response.text
    assert client.get("/assets/index-abc.js").status_code == 404
    assert client.get("/api/v1/things/x").status_code == 200


def test_a_bundle_built_after_start_is_served_without_restart(tmp_path: Path, bundle: Path) -> None:
    later = tmp_path / "later"
    client = TestClient(_app(later))
    assert client.get("/").status_code == 503
    bundle.rename(later)
    assert client.get("/").text == INDEX


def test_mounted_on_the_service_app(tmp_path: Path, bundle: Path) -> None:
    app = create_app(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'web.db'}",
            argon2_time_cost=1,
            argon2_memory_kib=64,
            argon2_parallelism=1,
        )
    )
    try:
        mount_web(app, static_dir=bundle)
        with TestClient(app) as client:
            assert client.get("/api/v1/health").json()["status"] == "ok"
            assert client.get("/").status_code in (200, 503)
            paths = client.get("/api/v1/openapi.json").json()["paths"]
            assert all(path.startswith("/api/v1/") for path in paths)
    finally:
        services_of_app(app).db.dispose()


@pytest.mark.skipif(
    not (STATIC_DIR / "index.html").is_file(),
    reason="the bundle is not built (scripts/build_web.sh)",
)
def test_the_built_bundle_is_complete() -> None:
    """The real Vite build: both pages and every asset they reference are served."""
    client = TestClient(_app(STATIC_DIR))
    for page in ("/", "/track/abcdefghijklmnopqrstuv"):
        response = client.get(page)
        assert response.status_code == 200
        assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', response.text)
        assert any(a.endswith(".js") for a in assets), response.text
        for asset in assets:
            served = client.get(asset)
            assert served.status_code == 200, asset
            assert served.headers["cache-control"].endswith("immutable")
    assert "leaflet" not in client.get("/track/abcdefghijklmnopqrstuv").text.lower()
