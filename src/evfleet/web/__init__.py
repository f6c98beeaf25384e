"""The dispatcher dashboard and the customer tracking page, served by ``evfleet serve``.

The front end is an npm project in ``web/`` (Leaflet, Chart.js, bundled by Vite) whose build
lands in ``static/`` inside this package (``scripts/build_web.sh``; ``pip install .`` runs
it through ``setup.py``). :func:`mount_web` serves that bundle beside the API.
"""

from __future__ import annotations

from evfleet.web.static_files import BUILD_HINT, STATIC_DIR, mount_web

__all__ = ["BUILD_HINT", "STATIC_DIR", "mount_web"]
