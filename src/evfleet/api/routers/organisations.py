"""``/organisations``: sign-up (when enabled) and the caller's own organisation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.exc import IntegrityError

from evfleet.api.auth import Permission, Principal, require
from evfleet.api.bootstrap import create_organisation
from evfleet.api.common import scope_of
from evfleet.api.deps import DbSession, Services, get_services
from evfleet.api.problems import conflict, field_error, forbidden, not_found
from evfleet.api.schemas import OrganisationOut, OrganisationUpdate, SignupIn, SignupOut, UserOut

router = APIRouter(prefix="/organisations", tags=["organisations"])
Reader = Annotated[Principal, Depends(require(Permission.ORG_READ))]
Writer = Annotated[Principal, Depends(require(Permission.ORG_WRITE))]


@router.post(
    "", response_model=SignupOut, status_code=201, summary="Sign up: a new organisation and admin"
)
def sign_up(
    body: SignupIn, session: DbSession, services: Annotated[Services, Depends(get_services)]
) -> SignupOut:
    """Open only when the service runs with sign-up enabled (else 403)."""
    if not services.settings.allow_signup:
        raise forbidden("sign-up is disabled on this service")
    email_taken = conflict(
        "the e-mail address is already registered",
        errors=[field_error(["body", "admin_email"], "already registered", "duplicate")],
    )
    try:
        org, admin = create_organisation(
            session,
            services.hasher,
            body.name,
            body.admin_email,
            body.admin_password,
            admin_name=body.admin_name,
            country=body.country,
            currency=body.currency,
        )
        session.commit()
    except (ValueError, IntegrityError):
        session.rollback()
        raise email_taken from None
    return SignupOut(
        organisation=OrganisationOut.model_validate(org), admin=UserOut.model_validate(admin)
    )


@router.get("/current", response_model=OrganisationOut, summary="The caller's organisation")
def current(principal: Reader, session: DbSession) -> OrganisationOut:
    return OrganisationOut.model_validate(scope_of(session, principal).organisation())


@router.patch("/current", response_model=OrganisationOut, summary="Change the organisation")
def update_current(
    body: OrganisationUpdate, principal: Writer, session: DbSession
) -> OrganisationOut:
    """Name and the defaults planning uses (country, currency, prices, temperature)."""
    org = scope_of(session, principal).organisation()
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(org, name, value)
    session.commit()
    return OrganisationOut.model_validate(org)


@router.get(
    "/{organisation_id}", response_model=OrganisationOut, summary="An organisation (only your own)"
)
def get_organisation(
    organisation_id: uuid.UUID, principal: Reader, session: DbSession
) -> OrganisationOut:
    """Your own organisation by id; any other id is 404."""
    if organisation_id != principal.organisation_id:
        raise not_found("organisation")
    return OrganisationOut.model_validate(scope_of(session, principal).organisation())
