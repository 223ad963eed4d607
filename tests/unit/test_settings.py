"""Settings: the default database follows the project folder, URLs, secrets, log level."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.settings import (
    PLACEHOLDER_SECRET,
    Settings,
    SettingsError,
    database_url_from_env,
    default_database_url,
    log_level_from_env,
    normalize_database_url,
    project_folder,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "unit-test-secret-key-0123456789"


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"BILLBOT_ENV_FILE": str(tmp_path / "no.env"), **values}


def test_the_project_folder_is_the_checkout_holding_billbots_pyproject() -> None:
    assert project_folder() == ROOT


def test_the_default_database_lives_in_the_project_folder_whatever_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = database_url_from_env(_env(tmp_path))
    assert make_url(url).database == str(ROOT / "var" / "billbot.db")
    assert Settings.from_env(_env(tmp_path, BILLBOT_DEMO="1")).database_url == url


def test_an_installed_wheel_keeps_the_default_database_in_the_user_data_folder(
    tmp_path: Path,
) -> None:
    site_packages = tmp_path / "lib" / "site-packages"
    (site_packages / "bot").mkdir(parents=True)
    url = default_database_url(
        {"XDG_DATA_HOME": str(tmp_path / "data")}, package_dir=site_packages / "bot"
    )
    assert make_url(url).database == str(tmp_path / "data" / "billbot" / "billbot.db")


def test_another_projects_pyproject_is_not_mistaken_for_billbots(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n', encoding="utf-8")
    (tmp_path / "bot").mkdir()
    assert project_folder(tmp_path / "bot") is None


def test_an_explicit_relative_sqlite_url_stays_relative_to_the_current_directory(
    tmp_path: Path,
) -> None:
    url = database_url_from_env(_env(tmp_path, BILLBOT_DATABASE_URL="sqlite:///var/other.db"))
    assert url == "sqlite:///var/other.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://bill@db.example:5432/billbot", "postgresql://bill@db.example:5432/billbot"),
        ("postgres+asyncpg://bill:pw@db/billbot", "postgresql+asyncpg://bill:pw@db/billbot"),
        ("postgresql://bill@db/billbot", "postgresql://bill@db/billbot"),
        ("sqlite:////tmp/billbot.db", "sqlite:////tmp/billbot.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_postgres_urls_are_accepted_and_spelled_postgresql(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url", "redis://localhost"])
def test_a_database_url_billbot_cannot_use_is_a_clear_settings_error(url: str) -> None:
    with pytest.raises(SettingsError, match="BILLBOT_DATABASE_URL must be"):
        normalize_database_url(url)


def test_settings_from_env_normalise_a_postgres_url(tmp_path: Path) -> None:
    env = _env(tmp_path, BILLBOT_DATABASE_URL="postgres://u@h/d", BILLBOT_SECRET_KEY=SECRET)
    assert Settings.from_env(env).database_url == "postgresql://u@h/d"


@pytest.mark.parametrize("demo", ["0", "1"])
def test_the_published_placeholder_secret_is_refused_in_every_mode(
    tmp_path: Path, demo: str
) -> None:
    env = _env(tmp_path, BILLBOT_SECRET_KEY=PLACEHOLDER_SECRET, BILLBOT_DEMO=demo)
    with pytest.raises(SettingsError, match="placeholder"):
        Settings.from_env(env)


def test_demo_mode_without_a_secret_leaves_it_to_the_database(tmp_path: Path) -> None:
    settings = Settings.from_env(_env(tmp_path, BILLBOT_DEMO="1"))
    assert settings.demo
    assert settings.secret_key == ""


def test_production_without_a_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="BILLBOT_SECRET_KEY is not set"):
        Settings.from_env(_env(tmp_path))


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="at least 16"):
        Settings.from_env(_env(tmp_path, BILLBOT_SECRET_KEY="short"))


def test_the_log_level_comes_from_billbot_log_level_or_the_commands_default(
    tmp_path: Path,
) -> None:
    assert log_level_from_env(_env(tmp_path), default="INFO") == logging.INFO
    assert log_level_from_env(_env(tmp_path, BILLBOT_LOG_LEVEL="debug"), default="INFO") == (
        logging.DEBUG
    )


def test_an_unknown_log_level_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="BILLBOT_LOG_LEVEL"):
        log_level_from_env(_env(tmp_path, BILLBOT_LOG_LEVEL="loud"), default="INFO")
