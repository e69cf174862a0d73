"""Where a PostgreSQL store lives: its URL, and its password kept out of the URL and of logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    """A PostgreSQL database: `postgresql://user@host:port/db` plus the password, if any."""

    url: str
    password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if urlsplit(self.url).password:
            raise ValueError(
                "the database URL must not hold a password: give it from the environment "
                '([storage] password = { env = "VAR" })'
            )

    def __str__(self) -> str:
        return self.url


def is_postgres_url(text: str) -> bool:
    """True for a postgresql:// (or postgres://) URL."""
    return text.startswith(("postgresql://", "postgres://"))
