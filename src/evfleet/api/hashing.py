"""Hashing of passwords and API-key secrets with argon2id (``argon2-cffi``)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["SecretHasher"]


class SecretHasher:
    """argon2id hashing with tunable cost; :meth:`verify` never raises on a bad secret.

    The defaults (3 passes over 64 MiB) follow argon2-cffi's recommendation; tests lower them.
    """

    def __init__(self, time_cost: int = 3, memory_kib: int = 65_536, parallelism: int = 4) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=max(memory_kib, 8 * parallelism),
            parallelism=parallelism,
        )
        self._dummy = self._hasher.hash("evfleet-dummy-secret")

    def hash(self, secret: str) -> str:
        """The argon2id hash of ``secret`` (salted; encodes its own parameters)."""
        return self._hasher.hash(secret)

    def verify(self, secret_hash: str, secret: str) -> bool:
        """Whether ``secret`` matches ``secret_hash``."""
        try:
            return self._hasher.verify(secret_hash, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def burn(self, secret: str) -> None:
        """Spends the time of one verification (for unknown accounts: no timing oracle)."""
        self.verify(self._dummy, secret)

    def needs_rehash(self, secret_hash: str) -> bool:
        """Whether ``secret_hash`` was made with other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(secret_hash)
        except (InvalidHashError, ValueError):
            return True
