"""Config validation: good files load, every mistake names its key path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from monitor.config import ConfigError, EnvSecret, load_config, parse_config, parse_duration

REPO = Path(__file__).resolve().parents[1]
BRAND = '[[brands]]\nname = "Acme"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_example_config_loads_as_shipped() -> None:
    config = load_config(REPO / "config.example.toml")
    assert [b.name for b in config.brands][:1] == ["Acme"]
    assert config.enabled_sources(), "the example must poll something out of the box"
    for source in config.sources:
        source.options()  # every kind's options validate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BRAND + "[storage]\nretention_day = 3\n", "storage.retention_day: unknown key"),
        ('[[brands]]\nname = "Acme"\nalias = ["x"]\n', "brands[0].alias: unknown key"),
        ("[storage]\npath = 'x.db'\n", "brands: Field required"),
        (BRAND + "[storage]\nretention_days = 0\n", "storage.retention_days:"),
        (BRAND + "[http]\nread_timeout = 'soon'\n", "http.read_timeout: expected a duration"),
        (
            BRAND + '[[sources]]\nkind = "nope"\nname = "a"\n',
            "sources[0].kind: unknown source kind",
        ),
        (
            BRAND + '[[sources]]\nkind = "rss"\nname = "a"\nurl = "https://e.com/f"\n'
            'intervall = "5m"\n',
            "sources[0].intervall: unknown key",
        ),
        (
            BRAND + '[[sources]]\nkind = "rss"\nname = "a"\nurl = "https://e.com/f"\n'
            'interval = "1s"\n',
            "sources[0].interval: interval must be at least 10s",
        ),
        (
            BRAND + '[[sources]]\nkind = "rss"\nname = "a"\nurl = "https://e.com/a"\n'
            '[[sources]]\nkind = "rss"\nname = "a"\nurl = "https://e.com/b"\n',
            "duplicate source name 'a'",
        ),
        (
            BRAND + '[[sources]]\nkind = "rss"\nname = "a"\nurl = "https://e.com/a"\n'
            'brands = ["Nope"]\n',
            "no brand named 'Nope'",
        ),
        (BRAND + "[logging]\nlevel = 'LOUD'\n", "logging.level:"),
        ("brands = [\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.path == str(path)
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml")


def test_secret_must_be_an_env_reference() -> None:
    with pytest.raises(ValueError, match='write { env = "VAR_NAME" }'):
        EnvSecret.model_validate("hunter2")


def test_secret_value_is_read_from_environment_and_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BM_TEST_SECRET", "s3cr3t-value")
    secret = EnvSecret(env="BM_TEST_SECRET")
    assert secret.reveal() == "s3cr3t-value"
    assert "s3cr3t" not in repr(secret) and "s3cr3t" not in str(secret)
    monkeypatch.delenv("BM_TEST_SECRET")
    with pytest.raises(ValueError, match="BM_TEST_SECRET is not set"):
        secret.reveal()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(30, 30.0), ("90s", 90.0), ("5m", 300.0), ("2h", 7200.0), ("7d", 604800.0), ("1.5h", 5400.0),
     ("1h30m", 5400.0), ("1d 12h", 129600.0), ("2m30s", 150.0)],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


def test_all_problems_are_reported_together() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"brands": [{"name": "A", "x": 1}], "storage": {"y": 2}})
    assert len(info.value.problems) == 2
