"""``/ui/config``: what the dashboard needs before login (map tiles); public."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from evfleet.api.deps import Services, get_services

router = APIRouter(prefix="/ui", tags=["dashboard"])


class UiConfig(BaseModel):
    tile_url: str | None = Field(
        description="Map tile URL template ({z}/{x}/{y}); null: no tiles, plain background"
    )
    tile_attribution: str
    tile_max_zoom: int


@router.get("/config", response_model=UiConfig, summary="Dashboard settings (map tiles)")
def ui_config(services: Annotated[Services, Depends(get_services)]) -> UiConfig:
    s = services.settings
    return UiConfig(
        tile_url=s.tile_url, tile_attribution=s.tile_attribution, tile_max_zoom=s.tile_max_zoom
    )
