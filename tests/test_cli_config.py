"""init, config discovery, read-only commands without secrets, check-config and routes test.

Everything runs through the real `brand-monitor` entry point against temporary files.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from monitor.store import Store

cli = CliRunner(env={"COLUMNS": "250"})
SECRET_ENVS = ("BM_TEST_HOOK_SECRET", "BM_TEST_REDDIT_ID", "BM_TEST_REDDIT_SECRET")


@pytest.fixture(autouse=True)
def no_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests decide themselves whether $BRAND_MONITOR_CONFIG and the secrets are set."""
    monkeypatch.delenv("BRAND_MONITOR_CONFIG", raising=False)
    for name in SECRET_ENVS:
        monkeypatch.delenv(name, raising=False)


def create_db(path: Path) -> None:
    async def run() -> None:
        store = await Store(path).open()
        await store.close()

    asyncio.run(run())


def secret_config(tmp_path: Path) -> Path:
    """A config whose channel and source reference environment variables that are not set."""
    path = tmp_path / "secret.toml"
    path.write_text(textwrap.dedent(f"""
        [[brands]]
        name = "Acme"
        [[sources]]
        kind = "reddit"
        name = "reddit"
        search = ["acme"]
        client_id = {{ env = "BM_TEST_REDDIT_ID" }}
        client_secret = {{ env = "BM_TEST_REDDIT_SECRET" }}
        user_agent = "linux:test:0.1 (by /u/test)"
        [[channels]]
        kind = "webhook"
        name = "hook"
        url = "https://hooks.example/x"
        secret = {{ env = "BM_TEST_HOOK_SECRET" }}
        [storage]
        path = "{tmp_path / 'bm.db'}"
    """), encoding="utf-8")
    return path


# -- init and finding the config --------------------------------------------------------------


def test_init_writes_a_starter_that_every_command_then_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, ["init", "--brand", "Acme", "--brand", 'Acme "Cola"'])
    assert result.exit_code == 0, result.output
    config = tmp_path / "config.toml"
    text = config.read_text(encoding="utf-8")
    assert text.count("\n# ") >= 5  # commented for a new user
    cfg = load_config(config)
    assert [b.name for b in cfg.brands] == ["Acme", 'Acme "Cola"']
    assert [c.kind for c in cfg.channels] == ["console"]
    assert cfg.models.sentiment.backend == "embedded"
    assert cfg.storage.path == Path("brand-monitor.db")

    # No --config: check-config and the read-only commands find ./config.toml.
    result = cli.invoke(app, ["check-config"])
    assert result.exit_code == 0, result.output
    assert 'brands:  Acme, Acme "Cola"' in result.output
    create_db(tmp_path / "brand-monitor.db")
    result = cli.invoke(app, ["sources", "--json"])
    assert result.exit_code == 0, result.output
    assert [row["name"] for row in json.loads(result.stdout)] == ["google-news"]

    result = cli.invoke(app, ["init", "--brand", "Other"])
    assert result.exit_code == 1
    assert "already exists; pass --force" in result.output
    assert load_config(config).brands[0].name == "Acme"
    result = cli.invoke(app, ["init", "--brand", "Other", "--force"])
    assert result.exit_code == 0, result.output
    assert load_config(config).brands[0].name == "Other"


def test_config_comes_from_the_flag_then_the_environment_then_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, ["sources"])
    assert result.exit_code == 2
    assert result.output.startswith(
        "error: no config: looked for --config (not given), $BRAND_MONITOR_CONFIG (not set) and "
        "./config.toml (not found); run `brand-monitor init --brand NAME`"
    ), result.output

    elsewhere = tmp_path / "etc" / "bm.toml"
    assert cli.invoke(app, ["init", "-c", str(elsewhere), "--brand", "FromEnv"]).exit_code == 0
    assert cli.invoke(app, ["init", "--brand", "FromCwd"]).exit_code == 0
    assert cli.invoke(app, ["init", "-c", str(tmp_path / "f.toml"), "--brand", "Flag"]
                      ).exit_code == 0

    def brands(*args: str, env: dict[str, str] | None = None) -> str:
        result = cli.invoke(app, ["check-config", *args], env=env)
        assert result.exit_code == 0, result.output
        return next(line for line in result.output.splitlines() if "brands:" in line)

    assert "FromCwd" in brands()
    assert "FromEnv" in brands(env={"BRAND_MONITOR_CONFIG": str(elsewhere)})
    assert "Flag" in brands(str(tmp_path / "f.toml"),
                            env={"BRAND_MONITOR_CONFIG": str(elsewhere)})

    result = cli.invoke(app, ["sources"], env={"BRAND_MONITOR_CONFIG": str(tmp_path / "nope")})
    assert result.exit_code == 2
    assert "no config file at" in result.output and "(from $BRAND_MONITOR_CONFIG)" in result.output


# -- read-only commands never need secrets ----------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["sources"],
        ["sources", "--json"],
        ["mentions", "search", "acme"],
        ["incidents", "list"],
        ["incidents", "list", "--csv"],
        ["alerts", "list"],
        ["silence", "list"],
    ],
)
def test_read_only_commands_work_without_secrets(tmp_path: Path, command: list[str]) -> None:
    config = secret_config(tmp_path)
    create_db(tmp_path / "bm.db")
    result = cli.invoke(app, [*command, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "is not set" not in result.output


def test_commands_that_send_still_require_secrets(tmp_path: Path) -> None:
    config = secret_config(tmp_path)
    result = cli.invoke(app, ["check-config", str(config)])
    assert result.exit_code == 2
    assert "environment variable BM_TEST_HOOK_SECRET is not set" in result.output
    assert "environment variable BM_TEST_REDDIT_ID is not set" in result.output
    result = cli.invoke(app, ["test-alert", "--channel", "hook", "--config", str(config)])
    assert result.exit_code == 2 and "BM_TEST_HOOK_SECRET is not set" in result.output


def test_sources_takes_db_without_any_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.chdir(tmp_path)
    create_db(tmp_path / "other.db")
    result = cli.invoke(app, ["sources", "--db", str(tmp_path / "other.db"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    result = cli.invoke(app, ["sources", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 1 and "no database at" in result.output


# -- check-config -----------------------------------------------------------------------------


def test_check_config_reports_three_kinds_of_problem_in_one_run(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(textwrap.dedent("""
        [[brands]]
        name = "Acme"
        [storage]
        retension_days = 30
        [[routes]]
        min_severity = "urgent"
        channels = ["console"]
        [[routes]]
        channels = ["pager"]
    """), encoding="utf-8")
    result = cli.invoke(app, ["check-config", str(path)])
    assert result.exit_code == 2
    assert "3 problem(s)" in result.output, result.output
    assert "storage.retension_days: unknown key" in result.output
    assert "routes[0].min_severity: Input should be 'info'" in result.output
    assert "routes[1].channels: no channel named 'pager'" in result.output


def test_check_config_summary_lists_channels_routes_quiet_hours_and_escalation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(textwrap.dedent("""
        [[brands]]
        name = "Acme"
        [[channels]]
        kind = "console"
        name = "console"
        [[channels]]
        kind = "console"
        name = "pager"
        stream = "stdout"
        [alerting]
        escalation_after = "1h30m"
        escalation_channels = ["pager"]
        [[routes]]
        name = "oncall"
        min_severity = "high"
        channels = ["pager"]
        quiet_hours = { start = "22:00", end = "07:00", timezone = "Europe/Berlin" }
        [[routes]]
        name = "everything"
        channels = ["console"]
    """), encoding="utf-8")
    result = cli.invoke(app, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "channels: console (console), pager (console)" in out
    assert "oncall: any brand; any category; severity high..critical -> pager" in out
    assert "[quiet hours 22:00-07:00 Europe/Berlin]" in out
    assert "quiet hours: oncall 22:00-07:00 Europe/Berlin" in out
    assert "escalation: critical incidents unacknowledged for 90m -> pager" in out


# -- routes test ------------------------------------------------------------------------------


def routed_config(tmp_path: Path) -> Path:
    path = tmp_path / "routes.toml"
    path.write_text(textwrap.dedent(f"""
        [[brands]]
        name = "Acme"
        [[brands]]
        name = "Roadrunner"
        [[channels]]
        kind = "console"
        name = "console"
        [[channels]]
        kind = "console"
        name = "pager"
        [alerting]
        escalation_after = "30m"
        escalation_channels = ["pager"]
        [[routes]]
        name = "oncall"
        brands = ["Acme"]
        categories = ["health_safety"]
        min_severity = "high"
        channels = ["pager"]
        continue = true
        quiet_hours = {{ start = "22:00", end = "07:00", timezone = "Europe/Berlin" }}
        [[routes]]
        name = "team"
        channels = ["console"]
        [storage]
        path = "{tmp_path / 'bm.db'}"
    """), encoding="utf-8")
    return path


def test_routes_test_names_routes_channels_and_quiet_hours(tmp_path: Path) -> None:
    config = routed_config(tmp_path)
    args = ["routes", "test", "--brand", "acme", "--severity", "high", "--category",
            "health_safety", "--at", "2026-12-06T23:30:00Z", "-c", str(config)]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "incident: Acme, high, health_safety, viral_claim, opening at 2026-12-06 23:30 UTC" in (
        out
    )
    assert "routes:   oncall, team" in out
    # 07:00 in Berlin in December is 06:00 UTC.
    assert "pager: held by quiet hours until 2026-12-07 06:00 UTC" in out
    assert "console: sent after the 30s group wait" in out
    assert "silence:  none active" in out

    data = json.loads(cli.invoke(app, [*args, "--json"]).stdout)
    assert data["routes"] == ["oncall", "team"]
    assert data["channels"] == [
        {"channel": "pager", "held_until": "2026-12-07T06:00:00Z", "why": "quiet hours"},
        {"channel": "console", "held_until": None, "why": None},
    ]
    assert data["escalation"] is None  # only critical incidents escalate

    critical = cli.invoke(app, [*args[:5], "critical", *args[6:], "--at", "2026-12-06T12:00Z",
                                "--json"])
    data = json.loads(critical.stdout)
    assert data["channels"][0] == {"channel": "pager", "held_until": None, "why": None}
    assert data["escalation"] == {"after_seconds": 1800.0, "channels": ["pager"]}

    other = json.loads(cli.invoke(app, ["routes", "test", "--brand", "Roadrunner",
                                        "--severity", "high", "--json", "-c", str(config)]).stdout)
    assert other["routes"] == ["team"]
    assert [c["channel"] for c in other["channels"]] == ["console"]


def test_routes_test_shows_the_silence_that_would_hold_it(tmp_path: Path) -> None:
    config = routed_config(tmp_path)
    create_db(tmp_path / "bm.db")
    result = cli.invoke(app, ["silence", "add", "--brand", "Acme", "--for", "2h",
                              "--reason", "recall statement is out", "-c", str(config)])
    assert result.exit_code == 0, result.output
    result = cli.invoke(app, ["routes", "test", "--brand", "Acme", "--severity", "medium",
                              "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "silence:  silence 1 until" in result.output
    assert "would mute it (recall statement is out)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--brand", "Acme", "--severity", "urgent"], "--severity 'urgent': use one of info,"),
        (["--brand", "Acme", "--severity", "low", "--category", "x"], "--category 'x': use one"),
        (["--brand", "Acmee", "--severity", "low"], "did you mean 'Acme'?"),
        (["--brand", "Acme", "--severity", "low", "--at", "noon"], "--at 'noon': use an ISO"),
    ],
)
def test_routes_test_refuses_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    result = cli.invoke(app, ["routes", "test", *args, "-c", str(routed_config(tmp_path))])
    assert result.exit_code == 1
    assert message in result.output, result.output


def test_version() -> None:
    result = cli.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("brand-monitor 0.")


def test_starter_config_is_valid_toml_for_awkward_brand_names(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    result = cli.invoke(app, ["init", "-c", str(path), "--brand", "Ünïcode \\ [brackets]"])
    assert result.exit_code == 0, result.output
    brands = tomllib.loads(path.read_text(encoding="utf-8"))["brands"]
    assert brands[0]["name"] == "Ünïcode \\ [brackets]"
    assert "wrote" in result.output and "[brackets]" in result.output
