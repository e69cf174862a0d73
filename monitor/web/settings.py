"""The `[web]` table: the dashboard, its users, signed alert links and Slack interactivity."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from monitor.configtypes import Duration, EnvSecret, Strict


class WebUser(Strict):
    """One dashboard user: a name and an argon2 hash (`brand-monitor web hash-password`)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\s<>&\"']+$")
    # The hash itself (a hash is not a secret), or { env = "VAR" } holding it.
    password_hash: str | EnvSecret

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: str | EnvSecret) -> str | EnvSecret:
        if isinstance(value, str) and not value.startswith("$argon2"):
            raise ValueError(
                "expected an argon2 hash starting with $argon2; create one with "
                "`brand-monitor web hash-password`"
            )
        return value


class WebConfig(Strict):
    """The dashboard, mounted on the daemon's [server]; off unless this table exists."""

    # Signs session cookies, CSRF tokens and the links in alerts; 32+ random bytes.
    secret: EnvSecret = EnvSecret(env="BRAND_MONITOR_WEB_SECRET")
    users: list[WebUser] = []
    # Where people reach the dashboard (behind a proxy: the proxy's https URL). Alerts link
    # here; cookies are marked Secure when it is https.
    public_url: str | None = None
    session_lifetime: Duration = 43200.0  # 12 hours
    link_lifetime: Duration = 86400.0  # signed acknowledge links in alerts stay valid this long
    refresh: Duration = 60.0  # the incidents page reloads itself this often (0: never)
    login_attempts: int = Field(default=5, ge=1)  # failed logins per user and per address ...
    login_window: Duration = 900.0  # ... within this window, then refused until it passes
    # Behind a reverse proxy every request comes from the proxy: count failed logins by the
    # address it appends to X-Forwarded-For instead. Only set it when a proxy is in front.
    trust_forwarded_for: bool = False
    # Slack app "Signing Secret": enables Acknowledge/Resolve buttons in Slack bot messages.
    slack_signing_secret: EnvSecret | None = None

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"public_url must be an http(s) URL such as https://monitor.example.com, "
                f"got {value!r}"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _unique_users(self) -> WebConfig:
        names = [u.name for u in self.users]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"users: duplicate user name {duplicates[0]!r}")
        return self

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry Secure when people reach the dashboard over https."""
        return bool(self.public_url and self.public_url.startswith("https://"))
