"""Signed, expiring links in alerts: open a confirmation page, acknowledge only by POST."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from monitor.web.auth import Signer

ACTIONS = ("ack",)  # what a link may do; resolving needs a login


@dataclass(frozen=True, slots=True)
class LinkGrant:
    """What a valid link allows: one action on one incident until `expires`."""

    incident_id: int
    action: str
    expires: int


class LinkSigner:
    """Makes and checks `/link/<id>/<action>?expires=..&sig=..` URLs."""

    def __init__(self, signer: Signer, base_url: str, lifetime: float) -> None:
        self.signer = signer
        self.base_url = base_url.rstrip("/")
        self.lifetime = lifetime

    def _message(self, incident_id: int, action: str, expires: int) -> str:
        return f"{incident_id}:{action}:{expires}"

    def url(self, incident_id: int, action: str, now: float) -> str:
        """The signed URL for `action` on the incident, valid for the configured lifetime."""
        if action not in ACTIONS:
            raise ValueError(f"no signed link for {action!r}")
        expires = int(now + self.lifetime)
        sig = self.signer.sign("link", self._message(incident_id, action, expires))
        query = urlencode({"expires": expires, "sig": sig})
        return f"{self.base_url}/link/{incident_id}/{action}?{query}"

    def check(
        self, incident_id: int, action: str, expires: str | None, sig: str | None, now: float
    ) -> LinkGrant | str:
        """The grant, or why the link cannot be used (tampered, expired)."""
        if action not in ACTIONS or not expires or not sig or not expires.isdigit():
            return "this link is incomplete; open it again from the alert"
        until = int(expires)
        if not self.signer.check("link", self._message(incident_id, action, until), sig):
            return "this link is not valid (it was changed or signed with another secret)"
        if until <= now:
            return "this link has expired; log in to acknowledge from the dashboard"
        return LinkGrant(incident_id, action, until)
