"""What ``evfleet serve`` runs: migrations, an optional first admin, the worker, uvicorn."""

from __future__ import annotations

import logging

from evfleet.api.settings import Settings

__all__ = ["serve"]

log = logging.getLogger("evfleet.api")


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    worker: bool = True,
    bootstrap: tuple[str, str, str] | None = None,
    mqtt_url: str | None = None,
) -> None:
    """Upgrades the schema, creates ``bootstrap`` = (organisation, e-mail, password) if that
    user does not exist, starts the planning worker process (unless ``worker`` is false),
    follows the vans live from the broker at ``mqtt_url`` (if given) and serves the API
    with uvicorn until interrupted."""
    import uvicorn

    from evfleet.api.app import create_app
    from evfleet.api.bootstrap import ensure_bootstrap_admin
    from evfleet.api.deps import services_of_app
    from evfleet.api.worker import start_worker_process

    application = create_app(settings)
    services = services_of_app(application)
    if bootstrap is not None:
        org_name, email, password = bootstrap
        with services.db.sessions() as session:
            if ensure_bootstrap_admin(session, services.hasher, org_name, email, password):
                log.warning("created organisation %r with admin %s", org_name, email)
    process = start_worker_process(settings.database_url) if worker else None
    feed = None
    if mqtt_url is not None:
        from evfleet.ingest.writer import VehicleDirectory
        from evfleet.live.mqtt_feed import MqttLiveFeed

        feed = MqttLiveFeed(
            mqtt_url, application.state.live_tracking, VehicleDirectory(services.db)
        )
        feed.start()
    try:
        uvicorn.run(application, host=host, port=port, log_level="info", proxy_headers=True)
    finally:
        if feed is not None:
            feed.stop()
        application.state.live_tracking.flush(10.0)  # store what was tracked last
        if process is not None:
            process.terminate()
            process.join(10)
