"""The telemetry ingest service: batched writes (:mod:`.writer`), the MQTT consumer
(:mod:`.mqtt`) and Mosquitto credentials for the vans (:mod:`.mosquitto_auth`).

Storage is :mod:`evfleet.store.telemetry_models`; the HTTP batch endpoint is
``POST /api/v1/telemetry`` (:mod:`evfleet.api.routers.telemetry`).
"""
