"""What every outbound HTTP caller shares: who we say we are, how long to wait, safe URLs.

Connectors (through monitor/httpclient.py) and alert channels both use it; it imports neither.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

USER_AGENT = "brand-monitor/0.1 (+https://github.com/brand-monitor/brand-monitor; self-hosted)"
DEFAULT_RETRY_AFTER = 60.0  # seconds, when a server asks us to wait but not for how long
# Query parameters whose values are credentials; masked in every message we produce.
SECRET_PARAMS = frozenset(
    {"key", "api_key", "apikey", "token", "access_token", "client_secret", "password", "sig"}
)


def redact_url(url: str) -> str:
    """Return `url` with credential-looking query values and userinfo masked."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1] if "@" in parts.netloc else parts.netloc
    query = [
        (k, "***" if k.lower() in SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*"), ""))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())
