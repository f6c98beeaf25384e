"""Request and response bodies of the REST API (pydantic 2), with units in the field names.

Bounds on every number and a character class on every string are part of the contract (and
of the OpenAPI document): they keep values representable in both databases (no NUL in
PostgreSQL text, no integer beyond 64 bits, no infinity in JSON), so that no input can
reach a 500. Times of day are seconds since local midnight (``_s``, 0 to 86 400; ``null``
for "no limit"), coordinates WGS 84 degrees, masses kg, energies Wh, powers W, prices in the
organisation's currency.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from evfleet.order_status import OrderStatus

T = TypeVar("T")

# ----------------------------------------------------------------------------- field types

_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Name = Annotated[str, StringConstraints(max_length=200, pattern=_NO_CONTROL)]
Notes = Annotated[str, StringConstraints(max_length=2000, pattern=_TEXT)]
Code = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
]
ExternalId = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]*$"
    ),
]
Email = Annotated[
    str,
    StringConstraints(
        min_length=3,
        max_length=254,
        pattern=r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
    ),
]
Password = Annotated[str, StringConstraints(min_length=10, max_length=256, pattern=_NO_CONTROL)]
Plate = Annotated[
    str, StringConstraints(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9 .-]*$")
]
Vin = Annotated[
    str, StringConstraints(min_length=17, max_length=17, pattern=r"^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$")
]
Latitude = Annotated[float, Field(ge=-90.0, le=90.0, description="WGS 84 degrees")]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0, description="WGS 84 degrees")]
TimeOfDay = Annotated[float, Field(ge=0.0, le=86_400.0, description="seconds since midnight")]
Amount = Annotated[float, Field(ge=0.0, le=1e9)]
Positive = Annotated[float, Field(gt=0.0, le=1e9)]
Count = Annotated[int, Field(ge=1, le=10_000)]
Limit = Annotated[int, Field(ge=1, le=500)]
Offset = Annotated[int, Field(ge=0, le=1_000_000)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Temperature = Annotated[float, Field(ge=-60.0, le=60.0)]
UserRoleName = Literal["admin", "dispatcher", "driver", "viewer"]
KeyRoleName = Literal["admin", "dispatcher", "viewer", "vehicle"]
PowertrainName = Literal["electric", "diesel"]


class Strict(BaseModel):
    """A request body: unknown fields are rejected (a typo is an error, not a no-op)."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """A response body, read from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items``, the ``total`` number that match, ``limit``, ``offset``."""

    items: list[T]
    total: int
    limit: int
    offset: int


class Health(BaseModel):
    status: Literal["ok"]
    database: str
    revision: str | None


# ----------------------------------------------------------------------------- organisations


class OrganisationOut(Out):
    id: uuid.UUID
    name: str
    country: str
    currency: str
    diesel_price_per_l: float
    carbon_price_per_t: float
    outside_temperature_c: float
    created_at: dt.datetime


class OrganisationUpdate(Strict):
    name: Name | None = None
    country: Country | None = None
    currency: Currency | None = None
    diesel_price_per_l: Amount | None = None
    carbon_price_per_t: Amount | None = None
    outside_temperature_c: Temperature | None = None


class SignupIn(Strict):
    """A new organisation and its first admin."""

    name: Annotated[Name, StringConstraints(min_length=1)]
    country: Country = "DE"
    currency: Currency = "EUR"
    admin_email: Email
    admin_password: Password
    admin_name: Name = ""


# ----------------------------------------------------------------------------- users, keys


class UserOut(Out):
    id: uuid.UUID
    email: str
    name: str
    role: str
    active: bool
    created_at: dt.datetime


class SignupOut(BaseModel):
    organisation: OrganisationOut
    admin: UserOut


class UserIn(Strict):
    email: Email
    name: Name = ""
    role: UserRoleName
    password: Password
    active: bool = True


class UserUpdate(Strict):
    name: Name | None = None
    role: UserRoleName | None = None
    password: Password | None = None
    active: bool | None = None


class TokenOut(BaseModel):
    """A login token (OAuth 2 password-grant response)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    expires_at: dt.datetime


class MeOut(BaseModel):
    """The caller as the API sees it."""

    kind: Literal["user", "api_key"]
    id: uuid.UUID
    organisation_id: uuid.UUID
    role: str
    label: str
    user_id: uuid.UUID | None
    vehicle_id: uuid.UUID | None
    permissions: list[str]


class ApiKeyIn(Strict):
    name: Annotated[Name, StringConstraints(min_length=1)]
    role: KeyRoleName
    vehicle_id: uuid.UUID | None = Field(
        default=None, description="Required for role vehicle, forbidden otherwise"
    )

    @model_validator(mode="after")
    def _vehicle(self) -> ApiKeyIn:
        if (self.role == "vehicle") != (self.vehicle_id is not None):
            raise ValueError("vehicle_id is required for role vehicle and only for it")
        return self


class ApiKeyOut(Out):
    id: uuid.UUID
    name: str
    role: str
    prefix: str
    vehicle_id: uuid.UUID | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself; shown this once, store it safely")


# ----------------------------------------------------------------------------- fleet


class ChargePoint(Strict):
    power_w: Annotated[float, Field(gt=0.0, le=1e6)]
    count: Annotated[int, Field(ge=1, le=1000)] = 1


class DepotIn(Strict):
    code: Code
    name: Name = ""
    latitude_deg: Latitude
    longitude_deg: Longitude
    open_s: TimeOfDay = 0.0
    close_s: TimeOfDay | None = None
    electricity_price_per_kwh: Amount = 0.0
    charge_points: Annotated[list[ChargePoint], Field(max_length=100)] = Field(default_factory=list)


class DepotUpdate(Strict):
    code: Code | None = None
    name: Name | None = None
    latitude_deg: Latitude | None = None
    longitude_deg: Longitude | None = None
    open_s: TimeOfDay | None = None
    close_s: TimeOfDay | None = None
    electricity_price_per_kwh: Amount | None = None
    charge_points: Annotated[list[ChargePoint], Field(max_length=100)] | None = None


class DepotOut(Out):
    id: uuid.UUID
    code: str
    name: str
    latitude_deg: float
    longitude_deg: float
    open_s: float
    close_s: float | None
    electricity_price_per_kwh: float
    charge_points: list[ChargePoint]
    created_at: dt.datetime


class VehicleTypeIn(Strict):
    """A catalogue model (``catalogue_id`` only) or a custom one (powertrain and figures)."""

    code: Code
    name: Name = ""
    catalogue_id: Code | None = None
    powertrain: PowertrainName | None = None
    capacity_kg: Annotated[float, Field(ge=0.0, le=1e6)] | None = None
    battery_wh: Annotated[float, Field(ge=0.0, le=1e7)] | None = None
    energy_wh_per_m: Annotated[float, Field(ge=0.0, le=100.0)] | None = None
    fuel_l_per_m: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    driver_cost_per_hour: Amount = 0.0
    fixed_cost_per_day: Amount = 0.0


class VehicleTypeUpdate(Strict):
    code: Code | None = None
    name: Name | None = None
    driver_cost_per_hour: Amount | None = None
    fixed_cost_per_day: Amount | None = None


class VehicleTypeOut(Out):
    id: uuid.UUID
    code: str
    name: str
    catalogue_id: str | None
    powertrain: str
    capacity_kg: float | None
    battery_wh: float | None
    energy_wh_per_m: float | None
    fuel_l_per_m: float | None
    driver_cost_per_hour: float
    fixed_cost_per_day: float
    created_at: dt.datetime


class CatalogueVehicleOut(BaseModel):
    id: str
    name: str
    maker: str
    powertrain: str
    usable_battery_wh: float | None
    payload_kg: float | None
    wltp_range_m: float | None
    wltp_consumption_wh_per_km: float | None
    ac_max_power_w: float | None
    dc_max_power_w: float | None


class VehicleIn(Strict):
    plate: Plate
    vin: Vin | None = None
    name: Name = ""
    vehicle_type_id: uuid.UUID
    depot_id: uuid.UUID
    active: bool = True


class VehicleUpdate(Strict):
    plate: Plate | None = None
    vin: Vin | None = None
    name: Name | None = None
    vehicle_type_id: uuid.UUID | None = None
    depot_id: uuid.UUID | None = None
    active: bool | None = None


class VehicleOut(Out):
    id: uuid.UUID
    plate: str
    vin: str | None
    name: str
    vehicle_type_id: uuid.UUID
    depot_id: uuid.UUID
    active: bool
    created_at: dt.datetime


class ChargerIn(Strict):
    code: Code
    name: Name = ""
    latitude_deg: Latitude
    longitude_deg: Longitude
    power_w: Annotated[float, Field(gt=0.0, le=1e6)]
    connectors: Annotated[int, Field(ge=1, le=1000)] = 1
    price_per_kwh: Amount = 0.0
    open_s: TimeOfDay = 0.0
    close_s: TimeOfDay | None = None
    public: bool = True


class ChargerUpdate(Strict):
    code: Code | None = None
    name: Name | None = None
    latitude_deg: Latitude | None = None
    longitude_deg: Longitude | None = None
    power_w: Annotated[float, Field(gt=0.0, le=1e6)] | None = None
    connectors: Annotated[int, Field(ge=1, le=1000)] | None = None
    price_per_kwh: Amount | None = None
    open_s: TimeOfDay | None = None
    close_s: TimeOfDay | None = None
    public: bool | None = None


class ChargerOut(Out):
    id: uuid.UUID
    code: str
    name: str
    latitude_deg: float
    longitude_deg: float
    power_w: float
    connectors: int
    price_per_kwh: float
    open_s: float
    close_s: float | None
    public: bool
    created_at: dt.datetime


# ----------------------------------------------------------------------------- orders


class OrderIn(Strict):
    """An order; ``external_id`` is the dispatcher's own id (unique in the organisation)."""

    external_id: ExternalId
    latitude_deg: Latitude
    longitude_deg: Longitude
    parcels: Annotated[int, Field(ge=0, le=100_000)] = 1
    weight_kg: Annotated[float, Field(ge=0.0, le=1e6)] = 0.0
    tw_early_s: TimeOfDay = 0.0
    tw_late_s: TimeOfDay | None = None
    service_s: TimeOfDay = 180.0
    notes: Notes = ""
    delivery_date: dt.date | None = None


class OrderUpdate(Strict):
    """Changes to an order that is still ``received``."""

    latitude_deg: Latitude | None = None
    longitude_deg: Longitude | None = None
    parcels: Annotated[int, Field(ge=0, le=100_000)] | None = None
    weight_kg: Annotated[float, Field(ge=0.0, le=1e6)] | None = None
    tw_early_s: TimeOfDay | None = None
    tw_late_s: TimeOfDay | None = None
    service_s: TimeOfDay | None = None
    notes: Notes | None = None
    delivery_date: dt.date | None = None


class OrderOut(Out):
    id: uuid.UUID
    external_id: str
    latitude_deg: float
    longitude_deg: float
    parcels: int
    weight_kg: float
    tw_early_s: float
    tw_late_s: float | None
    service_s: float
    notes: str
    delivery_date: dt.date | None
    status: OrderStatus
    tracking_token: str = Field(
        description="Secret of the customer's tracking page /track/<tracking_token>"
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class StatusEventOut(Out):
    from_status: OrderStatus | None
    to_status: OrderStatus
    at: dt.datetime
    actor: str
    reason: str


class OrderDetail(OrderOut):
    allowed_next: list[OrderStatus]
    history: list[StatusEventOut]


class StatusChangeIn(Strict):
    status: OrderStatus
    reason: Notes = ""


class ImportedOrder(BaseModel):
    external_id: str
    id: uuid.UUID
    outcome: Literal["created", "updated", "unchanged"]


class ImportIssue(BaseModel):
    """A problem in the uploaded file: ``loc`` is ``["file", line, column]``."""

    loc: list[str | int]
    msg: str
    line: int | None
    column: str | None
    value: str | None


class ImportReport(BaseModel):
    """What an import did: counts, each order's outcome, every row error and warning."""

    file: str
    created: int
    updated: int
    unchanged: int
    rejected: int
    orders: list[ImportedOrder]
    errors: list[ImportIssue]
    warnings: list[ImportIssue]


# ----------------------------------------------------------------------------- plans, jobs


class StopOut(Out):
    id: uuid.UUID
    sequence: int
    kind: Literal["delivery", "charging"]
    location: str
    order_id: uuid.UUID | None
    charger_id: uuid.UUID | None
    latitude_deg: float | None
    longitude_deg: float | None
    arrival_s: float | None
    departure_s: float | None
    charging_s: float
    charged_wh: float
    soc_arrival_pct: float | None
    soc_departure_pct: float | None
    load_kg: float | None
    status: Literal["planned", "arrived", "departed", "delivered"] = Field(
        description="Live status, set by tracking"
    )
    actual_arrival_s: float | None = Field(description="Seen arriving, s since midnight")
    actual_departure_s: float | None = Field(description="Seen leaving, s since midnight")
    eta_s: float | None = Field(description="Latest forecast arrival, s since midnight")


class RouteOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    index: int
    vehicle_type_id: uuid.UUID | None
    depot_id: uuid.UUID | None
    vehicle_id: uuid.UUID | None
    driver_id: uuid.UUID | None
    start_s: float | None
    end_s: float | None
    kpis: dict[str, Any]
    stops: list[StopOut]
    charging_stops: list[StopOut]


class PlanSummary(BaseModel):
    id: uuid.UUID
    name: str
    status: Literal["draft", "dispatched", "discarded"]
    feasible: bool
    job_id: uuid.UUID | None
    route_count: int
    kpis: dict[str, Any]
    created_at: dt.datetime
    dispatched_at: dt.datetime | None


class PlanDetail(PlanSummary):
    unassigned: list[str]
    violations: list[str]
    diesel_comparison: dict[str, Any] | None = Field(
        default=None, description="The same day driven all-diesel, and the differences"
    )
    routes: list[RouteOut]


class Assignment(Strict):
    route_id: uuid.UUID
    vehicle_id: uuid.UUID | None = None
    driver_id: uuid.UUID | None = None


class DispatchIn(Strict):
    """Who drives what: routes not listed keep the vehicle the plan suggested."""

    assignments: Annotated[list[Assignment], Field(max_length=1000)] = Field(default_factory=list)


class JobIn(Strict):
    """What to plan: by default every ``received`` order, every active vehicle, every charger.

    ``delivery_date`` keeps the orders of that date (and those without one);
    ``order_ids``/``vehicle_ids`` restrict to those; shifts are ``shift_start_s`` to
    ``shift_end_s``; vans leave with ``start_soc`` before depot charging.
    """

    name: Name = ""
    delivery_date: dt.date | None = None
    order_ids: Annotated[list[uuid.UUID], Field(max_length=10_000)] | None = None
    vehicle_ids: Annotated[list[uuid.UUID], Field(max_length=1000)] | None = None
    time_limit_s: Annotated[float, Field(ge=1.0, le=3600.0)] = 30.0
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    shift_start_s: TimeOfDay = 8 * 3600.0
    shift_end_s: TimeOfDay = 18 * 3600.0
    start_soc: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    outside_temperature_c: Temperature | None = None

    @model_validator(mode="after")
    def _shift(self) -> JobIn:
        if self.shift_end_s <= self.shift_start_s:
            raise ValueError("shift_end_s must be after shift_start_s")
        return self


class JobProgress(BaseModel):
    """The engine's best plan so far."""

    elapsed_s: float
    iteration: int
    feasible: bool
    vehicles: int
    objective: float | None
    stage: str | None = None


class JobOut(BaseModel):
    id: uuid.UUID
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    params: dict[str, Any]
    progress: JobProgress | None
    error: str | None
    cancel_requested: bool
    plan_id: uuid.UUID | None
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
