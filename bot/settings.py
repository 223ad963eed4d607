"""Typed settings read once from a mapping (os.environ in production, a dict in tests)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

PLACEHOLDER_SECRET = "change-me-demo-secret"
DEFAULT_DATABASE_URL = "sqlite:///var/billbot.db"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    demo: bool = False
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = PLACEHOLDER_SECRET
    conversation_idle_seconds: int = 15 * 60
    delivery: str = "sandbox"  # "sandbox" records outbound messages without sending them
    nlu_threshold: float = 0.45
    pay_link_ttl_seconds: int = 24 * 3600
    default_region: str = "US"  # for phone numbers typed without a country code
    scheduler_enabled: bool = True

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, checked: bool = True
    ) -> Settings:
        """Settings from `environ` (default os.environ) over a .env file.

        `checked=False` skips the production safety checks, for tools that use no secrets.
        """
        env = dict(os.environ if environ is None else environ)
        env = {**_read_dotenv(Path(env.get("BILLBOT_ENV_FILE", ".env"))), **env}
        settings = cls(
            database_url=env.get("BILLBOT_DATABASE_URL", DEFAULT_DATABASE_URL),
            demo=_flag(env, "BILLBOT_DEMO", False),
            public_url=env.get("BILLBOT_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            secret_key=env.get("BILLBOT_SECRET_KEY", PLACEHOLDER_SECRET),
            conversation_idle_seconds=_int(env, "BILLBOT_CONVERSATION_IDLE_SECONDS", 15 * 60),
            delivery=env.get("BILLBOT_DELIVERY", "sandbox"),
            nlu_threshold=_float(env, "BILLBOT_NLU_THRESHOLD", 0.45),
            pay_link_ttl_seconds=_int(env, "BILLBOT_PAY_LINK_TTL_SECONDS", 24 * 3600),
            default_region=env.get("BILLBOT_DEFAULT_REGION", "US").upper(),
            scheduler_enabled=_flag(env, "BILLBOT_SCHEDULER", True),
        )
        if checked:
            settings.check()
        return settings

    def with_demo(self) -> Settings:
        return replace(self, demo=True)

    def check(self) -> None:
        """Refuse settings that would be unsafe outside demo mode."""
        if self.delivery not in ("sandbox", "live"):
            raise SettingsError("BILLBOT_DELIVERY must be 'sandbox' or 'live'")
        if not self.demo and self.secret_key == PLACEHOLDER_SECRET:
            raise SettingsError(
                "BILLBOT_SECRET_KEY is not set: set a long random value (or use demo mode)"
            )
        if len(self.secret_key) < 16:
            raise SettingsError("BILLBOT_SECRET_KEY must be at least 16 characters")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None


def _read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file, if there is one; environment variables win."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """BILLBOT_DATABASE_URL (environment first, then .env) without the other settings' checks.

    `billbot db …` commands need only the database, not a secret key or demo mode.
    """
    env = dict(os.environ if environ is None else environ)
    env = {**_read_dotenv(Path(env.get("BILLBOT_ENV_FILE", ".env"))), **env}
    return env.get("BILLBOT_DATABASE_URL") or DEFAULT_DATABASE_URL
