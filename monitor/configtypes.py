"""Building blocks of typed config tables, importable without the whole `Config` (no cycles)."""

from __future__ import annotations

import os
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")
# One or more "<number><unit>" parts, largest first or not: "90s", "1h30m", "1d 12h".
_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string such as "90s", "5m", "2h", "7d" or "1h30m"."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m, 2h or 7d")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        number = _NUMBER.match(value)
        if number:
            return float(number.group(1))
        if _DURATION.match(value):
            return sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(value))
    raise ValueError(f"expected a duration such as 30s, 5m, 2h or 7d, got {value!r}")


Duration = Annotated[float, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    """Base for config tables: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EnvSecret(Strict):
    """A secret given by reference, `{ env = "VAR" }`; the value never sits in the file or logs."""

    env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    @model_validator(mode="before")
    @classmethod
    def _refuse_literal(cls, data: Any) -> Any:
        if isinstance(data, str):
            raise ValueError(
                'secrets are references to environment variables: write { env = "VAR_NAME" } '
                "and export VAR_NAME"
            )
        return data

    def is_set(self) -> bool:
        """True when the environment variable exists and is not empty."""
        return bool(os.environ.get(self.env))

    def reveal(self) -> str:
        """The secret's value; raises ConfigError-friendly ValueError when unset."""
        value = os.environ.get(self.env)
        if not value:
            raise ValueError(f"environment variable {self.env} is not set")
        return value

    def __repr__(self) -> str:
        return f"EnvSecret(env={self.env!r})"

    __str__ = __repr__
