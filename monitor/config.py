"""Typed configuration: TOML file + environment secrets, with errors that name the key path."""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Any, Literal

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
from monitor.detection.settings import DetectionConfig
from monitor.alerting.config import AlertingConfig, RouteConfig, route_problems
from monitor.alerting.settings import ChannelSettings, default_channels
from monitor.alerting.settings import secret_problems as channel_secret_problems

# Re-exported: connectors and the CLI import these from here.
from monitor.configtypes import Duration as Duration
from monitor.configtypes import EnvSecret as EnvSecret
from monitor.configtypes import Strict as Strict
from monitor.configtypes import parse_duration as parse_duration
from monitor.matching import parse_query


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
    """Where mentions and incidents are kept."""

    path: Path = Path("brand-monitor.db")
    retention_days: int = Field(default=90, ge=1)
    prune_interval: Duration = 3600.0


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
    max_per_run: int = Field(default=100, ge=1, le=10000)  # ... at most this many per source per run
    # Mentions attached to an open incident are re-read first, whatever their age.


class LoggingConfig(Strict):
    """Log output."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


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

    @model_validator(mode="after")
    def _alert_references(self) -> Config:
        names: set[str] = set()
        for i, channel in enumerate(self.channels):
            if channel.name in names:
                raise ValueError(f"channels[{i}].name: duplicate channel name {channel.name!r}")
            names.add(channel.name)
        known = [c.name for c in self.channels or default_channels()]
        problems = route_problems(self.alerting, self.routes, known)
        brand_names = {b.name for b in self.brands}
        for i, route in enumerate(self.routes):
            problems += [f"routes[{i}].brands: no brand named {b!r}"
                         for b in route.brands if b not in brand_names]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for i, source in enumerate(self.sources):
            if source.name in seen:
                raise ValueError(f"sources[{i}].name: duplicate source name {source.name!r}")
            seen.add(source.name)
        brand_names: set[str] = set()
        for i, brand in enumerate(self.brands):
            if brand.name in brand_names:
                raise ValueError(f"brands[{i}].name: duplicate brand name {brand.name!r}")
            brand_names.add(brand.name)
        for i, source in enumerate(self.sources):
            for brand in source.brands:
                if brand not in brand_names:
                    raise ValueError(f"sources[{i}].brands: no brand named {brand!r}")
        return self

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
        reachable = f"/healthz, /metrics (no authentication, no TLS) and the webhook intake {routes}"
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


def parse_config(data: dict[str, Any], path: str = "<config>") -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem."""
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, _format_errors(exc)) from None
    problems: list[str] = []
    for i, source in enumerate(config.sources):
        try:
            options = source.options()
        except KeyError as exc:
            problems.append(f"sources[{i}].kind: {exc.args[0]}")
            continue
        except ValidationError as exc:
            problems.extend(_format_errors(exc, f"sources[{i}]"))
            continue
        if source.enabled:
            problems.extend(_secret_problems(options, f"sources[{i}]"))
    for i, channel in enumerate(config.channels):
        if channel.enabled:
            problems.extend(f"channels[{i}].{p}" for p in channel_secret_problems(channel))
    if problems:
        raise ConfigError(path, problems)
    return config


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file."""
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
    return parse_config(data, str(path))
