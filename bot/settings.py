"""Typed settings read once from a mapping (os.environ in production, a dict in tests).

The default database is `var/billbot.db` in billbot's *project folder* (the checkout: the folder
holding billbot's own pyproject.toml), whatever the current directory is, so `make run`,
`billbot chat` and `billbot messages` started from anywhere share one demo database. An
installed wheel has no project folder; it uses `$XDG_DATA_HOME/billbot/billbot.db`
(`~/.local/share/billbot/billbot.db`) instead. A relative path written in
BILLBOT_DATABASE_URL (`sqlite:///var/other.db`) keeps its ordinary meaning: relative to the
current directory.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.channel_settings import ChannelSettings, ChannelSettingsError

# The published placeholder of earlier versions: it never signs anything, in any mode.
PLACEHOLDER_SECRET = "change-me-demo-secret"
DEFAULT_SQLITE_PATH = Path("var") / "billbot.db"
_PACKAGE_DIR = Path(__file__).resolve().parent
_BACKENDS = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it."""


def project_folder(package_dir: Path = _PACKAGE_DIR) -> Path | None:
    """The checkout billbot runs from (the folder above `bot/` holding billbot's
    pyproject.toml), or None for an installed wheel."""
    candidate = package_dir.parent
    try:
        pyproject = (candidate / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return candidate if re.search(r'^name\s*=\s*"billbot"', pyproject, re.MULTILINE) else None


def default_database_url(
    environ: Mapping[str, str] | None = None, *, package_dir: Path = _PACKAGE_DIR
) -> str:
    """`sqlite:///<project folder>/var/billbot.db`; for an installed wheel the user data folder."""
    env = os.environ if environ is None else environ
    folder = project_folder(package_dir)
    if folder is not None:
        path = folder / DEFAULT_SQLITE_PATH
    else:
        data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(data_home) / "billbot" / DEFAULT_SQLITE_PATH.name
    return f"sqlite:///{path}"


def nlu_cache_folder(setting: str, *, package_dir: Path = _PACKAGE_DIR) -> Path | None:
    """Where the fitted intent model is stored (`BILLBOT_NLU_CACHE`): None when "off"."""
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting).expanduser()
    database = Path(default_database_url(package_dir=package_dir).removeprefix("sqlite:///"))
    return database.parent / "nlu"


def normalize_database_url(url: str) -> str:
    """Check that billbot can use `url` and spell it canonically (`postgres://` → `postgresql://`).

    The driver part (`+aiosqlite`, `+asyncpg`, …) is kept; the engine picks the async one.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(_URL_HINT) from None
    backend, plus, driver = parsed.drivername.partition("+")
    if backend not in _BACKENDS:
        raise SettingsError(_URL_HINT)
    canonical = _BACKENDS[backend] + plus + driver
    if canonical == parsed.drivername:
        return url
    return parsed.set(drivername=canonical).render_as_string(hide_password=False)


_URL_HINT = "BILLBOT_DATABASE_URL must be a sqlite:///… or postgresql://… URL"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    demo: bool = False
    public_url: str = "http://127.0.0.1:8000"
    # Empty: not configured. Demo mode then signs with a random secret kept per database
    # (bot.bootstrap.resolve_secret); outside demo mode a secret is required.
    secret_key: str = ""
    conversation_idle_seconds: int = 15 * 60
    delivery: str = "sandbox"  # "sandbox" records outbound messages without sending them
    nlu_threshold: float = 0.55
    # Where the fitted intent model is kept between start-ups ("": `var/nlu` beside the default
    # database; "off": train at every start-up).
    nlu_cache: str = ""
    # The sentence encoder unsure messages go through ("minilm", when the `encoder` extra is
    # installed; "off": words alone decide; bot.nlu.encoder)
    nlu_encoder: str = "minilm"
    pay_link_ttl_seconds: int = 24 * 3600
    default_region: str = "US"  # for phone numbers typed without a country code
    scheduler_enabled: bool = True
    # A message (and its conversation) is leased to the worker answering it for this long; a
    # worker that dies holding one frees it when it runs out (docs/turns.md).
    turn_lease_seconds: float = 15.0
    recovery_sweep_seconds: float = 60.0  # how often each server answers orphaned messages
    outbox_batch_size: int = 20  # rows one outbox claim takes (and sends concurrently)
    alerts_every_seconds: float = 300.0  # how often the scheduler scans for due alerts
    # How long the scheduler's lease lasts without renewal: a dead holder's jobs pass on after it.
    scheduler_lease_seconds: float = 60.0
    channels: ChannelSettings = field(default_factory=ChannelSettings)
    # --- billing events in (`POST /api/events`, docs/events.md) ---
    # Empty: the endpoint is off (404). The previous secret is accepted too while a billing
    # system moves to a new one. Never logged: kept out of repr.
    events_secret: str = field(default="", repr=False)
    events_secret_previous: str = field(default="", repr=False)
    # --- the web view and payments (docs/web.md) ---
    operator_config: str = ""  # BILLBOT_OPERATOR_CONFIG: a YAML file; empty: the defaults
    payment_provider: str = "sandbox"  # "sandbox" (approves at once) or "stripe"
    stripe_secret_key: str = field(default="", repr=False)
    stripe_webhook_secret: str = field(default="", repr=False)
    stripe_api_base: str = ""  # empty: Stripe's own; tests point it at a fake on 127.0.0.1
    web_session_idle_seconds: int = 30 * 60
    web_session_max_seconds: int = 12 * 3600

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, checked: bool = True
    ) -> Settings:
        """Settings from `environ` (default os.environ) over a .env file.

        `checked=False` skips the production safety checks, for tools that use no secrets.
        """
        env = _environment(environ)
        settings = cls(
            database_url=database_url_from_env(env),
            demo=_flag(env, "BILLBOT_DEMO", False),
            public_url=env.get("BILLBOT_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            secret_key=env.get("BILLBOT_SECRET_KEY", ""),
            conversation_idle_seconds=_int(env, "BILLBOT_CONVERSATION_IDLE_SECONDS", 15 * 60),
            delivery=env.get("BILLBOT_DELIVERY", "sandbox"),
            nlu_threshold=_float(env, "BILLBOT_NLU_THRESHOLD", 0.55),
            nlu_cache=env.get("BILLBOT_NLU_CACHE", ""),
            nlu_encoder=env.get("BILLBOT_NLU_ENCODER", "minilm"),
            pay_link_ttl_seconds=_int(env, "BILLBOT_PAY_LINK_TTL_SECONDS", 24 * 3600),
            default_region=env.get("BILLBOT_DEFAULT_REGION", "US").upper(),
            scheduler_enabled=_flag(env, "BILLBOT_SCHEDULER", True),
            turn_lease_seconds=_float(env, "BILLBOT_TURN_LEASE_SECONDS", 15.0),
            recovery_sweep_seconds=_float(env, "BILLBOT_RECOVERY_SWEEP_SECONDS", 60.0),
            outbox_batch_size=_int(env, "BILLBOT_OUTBOX_BATCH_SIZE", 20),
            alerts_every_seconds=_float(env, "BILLBOT_ALERTS_EVERY_SECONDS", 300.0),
            scheduler_lease_seconds=_float(env, "BILLBOT_SCHEDULER_LEASE_SECONDS", 60.0),
            channels=_channels(env),
            events_secret=env.get("BILLBOT_EVENTS_SECRET", "").strip(),
            events_secret_previous=env.get("BILLBOT_EVENTS_SECRET_PREVIOUS", "").strip(),
            operator_config=env.get("BILLBOT_OPERATOR_CONFIG", "").strip(),
            payment_provider=env.get("BILLBOT_PAYMENT_PROVIDER", "sandbox").strip().lower(),
            stripe_secret_key=env.get("BILLBOT_STRIPE_SECRET_KEY", "").strip(),
            stripe_webhook_secret=env.get("BILLBOT_STRIPE_WEBHOOK_SECRET", "").strip(),
            stripe_api_base=env.get("BILLBOT_STRIPE_API_BASE", "").strip().rstrip("/"),
            web_session_idle_seconds=_int(env, "BILLBOT_WEB_SESSION_IDLE_SECONDS", 30 * 60),
            web_session_max_seconds=_int(env, "BILLBOT_WEB_SESSION_MAX_SECONDS", 12 * 3600),
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
        if not 1.0 <= self.turn_lease_seconds <= 300.0:
            raise SettingsError("BILLBOT_TURN_LEASE_SECONDS must be between 1 and 300")
        if not 1 <= self.outbox_batch_size <= 1000:
            raise SettingsError("BILLBOT_OUTBOX_BATCH_SIZE must be between 1 and 1000")
        if self.recovery_sweep_seconds <= 0:
            raise SettingsError("BILLBOT_RECOVERY_SWEEP_SECONDS must be positive")
        check_secret(self.secret_key, demo=self.demo)
        check_events_secrets(self.events_secret, self.events_secret_previous)
        check_payments(self)


def check_payments(settings: Settings) -> None:
    """Stripe needs both its keys; live messaging with sandbox payments is refused outside demo
    mode (customers would be told they paid when no money moved)."""
    provider = settings.payment_provider
    if provider not in ("sandbox", "stripe"):
        raise SettingsError("BILLBOT_PAYMENT_PROVIDER must be 'sandbox' or 'stripe'")
    keys = settings.stripe_secret_key and settings.stripe_webhook_secret
    if provider == "stripe" and not keys:
        raise SettingsError(
            "BILLBOT_PAYMENT_PROVIDER=stripe needs BILLBOT_STRIPE_SECRET_KEY and "
            "BILLBOT_STRIPE_WEBHOOK_SECRET"
        )
    if provider == "sandbox" and settings.delivery == "live" and not settings.demo:
        raise SettingsError(
            "BILLBOT_DELIVERY=live needs a real payment provider (BILLBOT_PAYMENT_PROVIDER=stripe)"
        )


def _channels(env: Mapping[str, str]) -> ChannelSettings:
    try:
        return ChannelSettings.from_env(env)
    except ChannelSettingsError as error:
        raise SettingsError(str(error)) from None


def check_secret(secret_key: str, *, demo: bool) -> None:
    """Refuse the published placeholder (always), a short secret, and none outside demo mode."""
    if secret_key == PLACEHOLDER_SECRET:
        raise SettingsError(
            "BILLBOT_SECRET_KEY is the published placeholder: set a long random value"
        )
    if not secret_key:
        if demo:
            return  # demo mode signs with a random secret kept per database
        raise SettingsError(
            "BILLBOT_SECRET_KEY is not set: set a long random value (or use demo mode)"
        )
    if len(secret_key) < 16:
        raise SettingsError("BILLBOT_SECRET_KEY must be at least 16 characters")


def check_events_secrets(secret: str, previous: str) -> None:
    """Refuse a short events secret, and a previous one without a current one."""
    if previous and not secret:
        raise SettingsError("BILLBOT_EVENTS_SECRET_PREVIOUS needs BILLBOT_EVENTS_SECRET set too")
    for name, value in (("", secret), ("_PREVIOUS", previous)):
        if value and len(value) < 16:
            raise SettingsError(f"BILLBOT_EVENTS_SECRET{name} must be at least 16 characters")


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


def _environment(environ: Mapping[str, str] | None) -> dict[str, str]:
    """`environ` (default os.environ) over the .env file; environment variables win."""
    env = dict(os.environ if environ is None else environ)
    return {**_read_dotenv(Path(env.get("BILLBOT_ENV_FILE", ".env"))), **env}


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """BILLBOT_DATABASE_URL (environment first, then .env), checked and normalised; else the
    default (see the module docstring). Needs no secret: `billbot db …` use it alone."""
    env = _environment(environ)
    raw = env.get("BILLBOT_DATABASE_URL")
    return normalize_database_url(raw) if raw else default_database_url(env)


def log_level_from_env(environ: Mapping[str, str] | None = None, *, default: str) -> int:
    """BILLBOT_LOG_LEVEL (DEBUG, INFO, WARNING, ERROR) as a logging level; else `default`."""
    raw = (_environment(environ).get("BILLBOT_LOG_LEVEL") or default).strip().upper()
    if raw not in _LOG_LEVELS:
        raise SettingsError(f"BILLBOT_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}")
    level: int = getattr(logging, raw)
    return level
