"""Typed configuration: TOML file + environment secrets, with errors that name the key path."""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from connectors.base import SourceOptions, connector_class
from models.settings import ModelsConfig
from monitor.alerting.config import AlertingConfig, RouteConfig
from monitor.alerting.settings import ChannelSettings, default_channels, parse_channels
from monitor.alerting.settings import secret_problems as channel_secret_problems

# Re-exported: connectors and the CLI import these from here.
from monitor.configtypes import Duration as Duration
from monitor.configtypes import EnvSecret as EnvSecret
from monitor.configtypes import Strict as Strict
from monitor.configtypes import parse_duration as parse_duration
from monitor.detection.settings import DetectionConfig
from monitor.matching import parse_query
from monitor.store.postgres_target import PostgresTarget, is_postgres_url
from monitor.web.settings import WebConfig


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists "key.path: message" lines."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class BrandConfig(Strict):
    """One brand to watch."""

    name: str = Field(min_length=1)
    aliases: list[str] = []  # single words or names matched on word boundaries
    phrases: list[str] = []  # exact phrases ("acme cola")
    query: str | None = None  # optional boolean query: acme AND (recall OR "made me sick") NOT job
    exclusions: list[str] = []  # a mention containing any of these is not about the brand
    handles: list[str] = []  # the brand's own accounts; their posts are not third-party mentions
    languages: list[str] = []  # ISO 639-1; empty means any language

    @field_validator("query")
    @classmethod
    def _parsable_query(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value.strip():
            try:
                parse_query(value)
            except ValueError as exc:  # QuerySyntaxError names the position
                raise ValueError(f"brand {info.data.get('name', '?')!r}: {exc}") from None
        return value

    def terms(self) -> list[str]:
        """Every positive term: name, aliases and phrases."""
        return [self.name, *self.aliases, *self.phrases]


class SourceConfig(BaseModel):
    """A `[[sources]]` table: common keys here, per-kind keys checked by the connector's Options."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    enabled: bool = True
    interval: Duration | None = None  # default: the connector's own
    jitter: Duration = 0.1  # fraction of the interval (<1) or seconds (>=1)
    brands: list[str] = []  # restrict matching to these brands; empty means all

    @field_validator("interval")
    @classmethod
    def _sane_interval(cls, value: float | None) -> float | None:
        if value is not None and value < 10:
            raise ValueError("interval must be at least 10s (be polite to the platform)")
        return value

    def options(self) -> SourceOptions:
        """The per-kind options validated by the connector class."""
        return connector_class(self.kind).Options.model_validate(self.model_extra or {})


class StorageConfig(Strict):
    """Where mentions and incidents are kept: a SQLite file (`path`, the default) or a
    PostgreSQL database (`url`, with `password` from the environment)."""

    path: Path = Path("brand-monitor.db")
    url: str | None = None  # postgresql://user@host:port/database
    password: EnvSecret | None = None
    retention_days: int = Field(default=90, ge=1)
    prune_interval: Duration = 3600.0
    # Several daemons on one PostgreSQL database (monitor/cluster.py): how often each says it
    # is alive, how long a silent one keeps its leases (the detection leader's included), and
    # how long a claim on mentions to score lasts before another daemon may score them.
    heartbeat: Duration = Field(default=5.0, gt=0)
    lease: Duration = Field(default=30.0, gt=0)
    scoring_claim: Duration = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _lease_outlives_heartbeats(self) -> StorageConfig:
        if self.lease < 3 * self.heartbeat:
            raise ValueError(
                "lease must be at least three heartbeats, or a daemon that is merely slow "
                "loses its work to another"
            )
        return self

    @model_validator(mode="after")
    def _one_database(self) -> StorageConfig:
        if self.url is None:
            if self.password is not None:
                raise ValueError("password is for a PostgreSQL url: set url, or remove password")
            return self
        if "path" in self.model_fields_set:
            raise ValueError(
                "path (a SQLite file) and url (a PostgreSQL database) are exclusive: keep one"
            )
        if not is_postgres_url(self.url):
            raise ValueError("url must be a PostgreSQL URL, postgresql://user@host:port/database")
        if urlsplit(self.url).password:
            raise ValueError(
                'url must not hold a password: write password = { env = "VAR" } and export VAR'
            )
        return self

    def location(self) -> Path | PostgresTarget:
        """Where the store lives; ValueError when the password's variable is not set."""
        if self.url is None:
            return self.path
        return PostgresTarget(self.url, self.password.reveal() if self.password else None)

    def describe(self) -> str:
        """The database in words, without its password."""
        return self.url if self.url is not None else str(self.path)


class HttpConfig(Strict):
    """The shared HTTP client."""

    connect_timeout: Duration = 10.0
    read_timeout: Duration = 30.0
    total_timeout: Duration = 60.0
    max_body_bytes: int = Field(default=5_000_000, ge=1024)
    max_redirects: int = Field(default=5, ge=0, le=20)
    user_agent: str | None = None  # default names the project


class PollingConfig(Strict):
    """Retry policy shared by all sources."""

    backoff_initial: Duration = 60.0
    backoff_max: Duration = 3600.0
    max_consecutive_failures: int = Field(default=20, ge=1)  # then the source is parked
    max_instances_timeout: Duration = 300.0  # a poll running longer is abandoned


class EngagementConfig(Strict):
    """Re-reading counters of recent mentions so virality can be measured."""

    refresh_interval: Duration = 900.0  # how often each refresh-capable source re-reads
    max_age: Duration = 172800.0  # re-read mentions first seen within this window (48h) ...
    # ... at most this many per source per run
    max_per_run: int = Field(default=100, ge=1, le=10000)
    # Mentions attached to an open incident are re-read first, whatever their age.


class LoggingConfig(Strict):
    """Log output."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"
    # A one-line status (mentions, incidents, alerts, unhealthy sources) this often; 0 = never.
    status_interval: Duration = Field(default=900.0, ge=0)


class ServerConfig(Strict):
    """The daemon's small HTTP server (health, metrics, API)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)


class Config(Strict):
    """The whole configuration file."""

    brands: list[BrandConfig] = Field(min_length=1)
    sources: list[SourceConfig] = []
    storage: StorageConfig = StorageConfig()
    http: HttpConfig = HttpConfig()
    polling: PollingConfig = PollingConfig()
    engagement: EngagementConfig = EngagementConfig()
    models: ModelsConfig = ModelsConfig()
    detection: DetectionConfig = DetectionConfig()
    logging: LoggingConfig = LoggingConfig()
    server: ServerConfig = ServerConfig()
    alerting: AlertingConfig = AlertingConfig()
    channels: list[ChannelSettings] = []
    routes: list[RouteConfig] = []
    web: WebConfig | None = None

    def enabled_sources(self) -> list[SourceConfig]:
        """Sources to poll."""
        return [s for s in self.sources if s.enabled]


def is_loopback_host(host: str) -> bool:
    """Whether binding to `host` keeps a server reachable from this machine only."""
    name = host.strip().removeprefix("[").removesuffix("]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        # "" binds every interface, and any other name may resolve to a network address:
        # only a literal loopback address (or localhost) counts as private.
        return False


def exposure_warnings(config: Config) -> list[str]:
    """Why the configured server is reachable from the network (empty when it is not)."""
    server = config.server
    if not server.enabled or is_loopback_host(server.host):
        return []
    intake = [s.name for s in config.enabled_sources() if connector_class(s.kind).push_only]
    reachable = "/healthz and /metrics (no authentication, no TLS)"
    if intake:
        routes = ", ".join(f"/ingest/{name}" for name in intake)
        reachable = (
            f"/healthz, /metrics (no authentication, no TLS) and the webhook intake {routes}"
        )
    return [
        f"[server] host = {server.host!r} is not a loopback address: {reachable} can be "
        f"reached from the network on port {server.port}. Set [server] host = \"127.0.0.1\" "
        "(or \"::1\"), or keep it only behind a reverse proxy or firewall that adds TLS and "
        "access control."
    ]


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _format_errors(exc: ValidationError, prefix: str = "") -> list[str]:
    problems = []
    for err in exc.errors():
        loc = _loc(tuple(p for p in err["loc"] if p not in ("function-after",)))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling against config.example.toml)"
        where = ".".join(p for p in (prefix, loc) if p)
        problems.append(f"{where}: {msg}" if where else msg)
    return problems


def _secret_problems(value: Any, where: str) -> list[str]:
    """Unset environment variables referenced anywhere inside an enabled table."""
    if isinstance(value, EnvSecret):
        return [] if value.is_set() else [f"{where}: environment variable {value.env} is not set"]
    if isinstance(value, BaseModel):
        return [
            p for key in type(value).model_fields
            for p in _secret_problems(getattr(value, key), f"{where}.{key}")
        ]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _secret_problems(item, f"{where}[{i}]")]
    if isinstance(value, dict):  # e.g. the json source's headers = { Authorization = { env } }
        return [p for k, item in value.items() for p in _secret_problems(item, f"{where}.{k}")]
    return []


def _named(items: Any, what: str) -> tuple[list[str], list[str]]:
    """Names of the tables in a raw `[[...]]` list, and a problem per repeated name."""
    names: list[str] = []
    problems: list[str] = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            continue  # a missing or mistyped name is reported by field validation
        if name in names:
            problems.append(f"{what}[{i}].name: duplicate {what[:-1]} name {name!r}")
        names.append(name)
    return names, problems


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def reference_problems(data: dict[str, Any]) -> list[str]:
    """Names that point at nothing (channels, brands) and repeated names, from the raw document.

    Read from the raw TOML rather than the validated model so that they are reported together
    with field errors elsewhere in the file: pydantic skips model validators once a field fails.
    """
    brands, problems = _named(data.get("brands"), "brands")
    sources, source_problems = _named(data.get("sources"), "sources")
    channels, channel_problems = _named(data.get("channels"), "channels")
    problems += source_problems + channel_problems
    raw_channels = data.get("channels")
    if not (isinstance(raw_channels, list) and raw_channels):
        channels = [c.name for c in default_channels()]
    known = ", ".join(sorted(set(channels))) or "none"

    def check_channels(where: str, names: list[str]) -> None:
        problems.extend(
            f"{where}: no channel named {name!r} (configured: {known})"
            for name in names if name not in channels
        )

    def check_brands(where: str, names: list[str]) -> None:
        problems.extend(f"{where}: no brand named {name!r}" for name in names if name not in brands)

    raw_sources = data.get("sources")
    for i, source in enumerate(raw_sources if isinstance(raw_sources, list) else []):
        if isinstance(source, dict):
            check_brands(f"sources[{i}].brands", _strings(source.get("brands")))
    digest_names: set[str] = set()
    raw_routes = data.get("routes")
    for i, route in enumerate(raw_routes if isinstance(raw_routes, list) else []):
        if not isinstance(route, dict):
            continue
        check_channels(f"routes[{i}].channels", _strings(route.get("channels")))
        check_brands(f"routes[{i}].brands", _strings(route.get("brands")))
        name = route.get("name")
        if route.get("digest") is not None and isinstance(name, str):
            if name in digest_names:
                problems.append(
                    f"routes[{i}].name: another digest route is also named {name!r}; "
                    "digest routes need distinct names"
                )
            digest_names.add(name)
    alerting = data.get("alerting")
    if isinstance(alerting, dict):
        for key in ("escalation_channels", "unmatched_channels"):
            check_channels(f"alerting.{key}", _strings(alerting.get(key)))
    return problems


def _table_problems(data: dict[str, Any], check_secrets: bool) -> list[str]:
    """Per-kind source options and unset secrets, each table on its own (one bad one hides none)."""
    problems: list[str] = []
    raw_sources = data.get("sources")
    for i, raw in enumerate(raw_sources if isinstance(raw_sources, list) else []):
        try:
            source = SourceConfig.model_validate(raw)
        except ValidationError:
            continue  # already reported by the whole-document validation
        try:
            options = source.options()
        except KeyError as exc:
            problems.append(f"sources[{i}].kind: {exc.args[0]}")
            continue
        except ValidationError as exc:
            problems.extend(_format_errors(exc, f"sources[{i}]"))
            continue
        if check_secrets and source.enabled:
            problems.extend(_secret_problems(options, f"sources[{i}]"))
    storage = data.get("storage")
    if check_secrets and isinstance(storage, dict):
        try:
            problems.extend(_secret_problems(StorageConfig.model_validate(storage), "storage"))
        except ValidationError:
            pass  # already reported by the whole-document validation
    raw_channels = data.get("channels")
    if check_secrets and isinstance(raw_channels, list):
        for i, raw in enumerate(raw_channels):
            try:
                (channel,) = parse_channels([raw])
            except (ValidationError, TypeError):
                continue  # already reported by the whole-document validation
            if channel.enabled:
                problems.extend(f"channels[{i}].{p}" for p in channel_secret_problems(channel))
    return problems


def parse_config(
    data: dict[str, Any], path: str = "<config>", *, check_secrets: bool = True
) -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem at once.

    `check_secrets=False` skips the environment-variable checks, for commands that only read
    the database and never send or fetch anything.
    """
    problems: list[str] = []
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems.extend(_format_errors(exc))
    problems.extend(reference_problems(data))
    problems.extend(_table_problems(data, check_secrets))
    if problems or config is None:
        raise ConfigError(path, list(dict.fromkeys(problems)))
    return config


def load_config(path: str | Path, *, check_secrets: bool = True) -> Config:
    """Read and validate a TOML config file (see `parse_config` for `check_secrets`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"cannot read: {exc}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    return parse_config(data, str(path), check_secrets=check_secrets)
