"""Serves the built front end: ``/`` the dashboard, ``/track/{token}`` the tracking page.

The Vite build (``scripts/build_web.sh``) writes ``index.html``, ``track.html`` and hashed
files under ``assets/`` into :data:`STATIC_DIR`. The pages are answered with
``Cache-Control: no-cache`` (so a new build is picked up at once) and the hashed assets
with a one-year ``immutable`` lifetime. Until the bundle is built, the two pages answer 503
with a text that says how to build it; the API under ``/api/v1`` is not affected (none of
these paths is under it, and none appears in the OpenAPI document).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, PlainTextResponse, Response

__all__ = ["BUILD_HINT", "STATIC_DIR", "mount_web"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Where the Vite build puts the bundle (``web/vite.config.ts``: ``build.outDir``)."""

BUILD_HINT = (
    "The evfleet dashboard has not been built.\n"
    "Run scripts/build_web.sh in the evfleet repository (it needs Node.js 20.19 or newer "
    "and npm), then reload this page.\n"
    "The API is available meanwhile at /api/v1 (interactive docs at /api/v1/docs).\n"
)
"""The body of the 503 answered for a page while the bundle is missing."""

ASSET_CACHE = "public, max-age=31536000, immutable"
PAGE_CACHE = "no-cache"

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}

_DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: http: https:; connect-src 'self' ws: wss:; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_TRACK_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def _page(static_dir: Path, name: str, headers: dict[str, str]) -> Response:
    """One of the built pages, or 503 with :data:`BUILD_HINT` while it is missing."""
    path = static_dir / name
    if not path.is_file():
        return PlainTextResponse(
            BUILD_HINT, status_code=503, headers={"Cache-Control": "no-store", "Retry-After": "60"}
        )
    return FileResponse(
        path,
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": PAGE_CACHE,
            "X-Content-Type-Options": "nosniff",
            **headers,
        },
    )


def _asset(assets_dir: Path, relative: str) -> Response:
    """A file under ``assets/``; 404 for anything outside it or not a plain file."""
    not_found = PlainTextResponse("not found\n", status_code=404)
    if not relative or "\\" in relative or "\x00" in relative:
        return not_found
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return not_found
    base = assets_dir.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return not_found
    return FileResponse(
        path,
        media_type=_MEDIA_TYPES.get(path.suffix.lower()),
        headers={"Cache-Control": ASSET_CACHE, "X-Content-Type-Options": "nosniff"},
    )


def mount_web(app: FastAPI, static_dir: Path | None = None) -> None:
    """Adds the front end's routes to ``app``: ``/`` (the dashboard, hash-routed),
    ``/assets/{path}`` (the bundle's hashed files) and ``/track/{token}`` (the customer
    tracking page; the page reads ``/api/v1/track/{token}`` itself).

    ``static_dir`` (default :data:`STATIC_DIR`) is looked at on every request, so a bundle
    built after start-up is served without a restart. The routes are left out of the
    OpenAPI document.
    """
    root = static_dir if static_dir is not None else STATIC_DIR
    router = APIRouter(include_in_schema=False)

    @router.api_route("/", methods=["GET", "HEAD"])
    async def dashboard() -> Response:
        return _page(
            root,
            "index.html",
            {
                "Content-Security-Policy": _DASHBOARD_CSP,
                "Referrer-Policy": "strict-origin-when-cross-origin",
                "X-Frame-Options": "DENY",
            },
        )

    @router.api_route("/track/{token}", methods=["GET", "HEAD"])
    async def tracking_page(token: str) -> Response:
        # The token is only read by the page's script; the page itself is the same for all.
        del token
        return _page(
            root,
            "track.html",
            {
                "Content-Security-Policy": _TRACK_CSP,
                "Referrer-Policy": "no-referrer",
                "X-Frame-Options": "DENY",
                "X-Robots-Tag": "noindex, nofollow",
            },
        )

    @router.api_route("/assets/{path:path}", methods=["GET", "HEAD"])
    async def asset(path: str) -> Response:
        return _asset(root / "assets", path)

    app.include_router(router)
