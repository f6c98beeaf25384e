"""Creating an organisation with its first admin (sign-up, ``evfleet serve``, tests)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from evfleet.api.hashing import SecretHasher
from evfleet.store import models as m
from evfleet.store.repositories import user_by_email

__all__ = ["create_organisation", "ensure_bootstrap_admin"]


def create_organisation(
    session: Session,
    hasher: SecretHasher,
    name: str,
    admin_email: str,
    admin_password: str,
    *,
    admin_name: str = "",
    country: str = "DE",
    currency: str = "EUR",
) -> tuple[m.Organisation, m.User]:
    """Adds an organisation and its admin user (flushed, not committed).

    Raises ``ValueError`` when the e-mail address is taken.
    """
    email = admin_email.strip().lower()
    if user_by_email(session, email) is not None:
        raise ValueError(f"the e-mail address {email} is already registered")
    org = m.Organisation(name=name, country=country, currency=currency)
    session.add(org)
    session.flush()
    admin = m.User(
        organisation_id=org.id,
        email=email,
        name=admin_name,
        role="admin",
        password_hash=hasher.hash(admin_password),
    )
    session.add(admin)
    session.flush()
    return org, admin


def ensure_bootstrap_admin(
    session: Session, hasher: SecretHasher, org_name: str, email: str, password: str
) -> bool:
    """Creates ``org_name`` with admin ``email`` unless that user exists; commits.

    Returns whether it created them.
    """
    if user_by_email(session, email) is not None:
        return False
    create_organisation(session, hasher, org_name, email, password)
    session.commit()
    return True
