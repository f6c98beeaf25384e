"""The REST service (adapters only): ``create_app(settings)`` in :mod:`evfleet.api.app`.

Layout: :mod:`.app` (the factory), :mod:`.routers` (one module per resource of
``/api/v1``), :mod:`.auth` (principals, roles, credentials), :mod:`.problems` (RFC 9457
errors), :mod:`.schemas` (request and response bodies), :mod:`.planning` and
:mod:`.worker` (planning jobs, run in a process of their own), :mod:`.server` (what
``evfleet serve`` runs). Storage is :mod:`evfleet.store`.
"""
