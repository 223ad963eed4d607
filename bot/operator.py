"""The operator's own configuration: who they are, how their pages look, what customers may do.

Read from the YAML file named by `BILLBOT_OPERATOR_CONFIG`; every key is optional and falls
back to the defaults below. Chat, web pages, PDFs and the SMS HELP text all read the same
object, so one file changes the name, the contacts and the toggles everywhere at once.

```yaml
name: Example Mobile
legal_name: Example Mobile Ltd.
address: [1 Main Street, Springfield, IL 62701]
tax_id: US-12-3456789
logo: /srv/branding/logo.svg        # SVG or PNG, served at /brand/logo
colors: {primary: "#0b5cad", accent: "#0a7d3b"}
support: {phone: "+1 202 555 0199", email: help@example.com, hours: "Mon–Fri 8:00–20:00",
          url: https://example.com/help}
legal_footer: "Example Mobile Ltd. is a registered telecoms provider."
bank: {iban: DE89370400440532013000, bic: COBADEFFXXX, beneficiary: Example Mobile GmbH}
upi: {vpa: examplemobile@okbank, payee: Example Mobile}
features: {usage: true, invoices: true, autopay: true, plan_changes: true,
           contact_changes: true, pay_without_sign_in: true}
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from bot.settings import SettingsError

T = TypeVar("T")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class Colors:
    primary: str = "#0b5cad"  # links, buttons, focus rings: ≥ 4.5:1 on white
    accent: str = "#0a7d3b"  # "paid", success


@dataclass(frozen=True, slots=True)
class Support:
    phone: str = "+1 202 555 0199"
    email: str = "help@billbot.example"
    hours: str = "Mon–Fri 8:00–20:00"
    url: str = ""


@dataclass(frozen=True, slots=True)
class Bank:
    """Where a SEPA credit transfer goes (the EPC069-12 QR on EUR invoices)."""

    iban: str = ""
    bic: str = ""
    beneficiary: str = ""


@dataclass(frozen=True, slots=True)
class Upi:
    """The UPI payee of INR invoices (the upi://pay QR)."""

    vpa: str = ""
    payee: str = ""


@dataclass(frozen=True, slots=True)
class Features:
    """What customers may see and change; chat and web both honour these."""

    usage: bool = True
    invoices: bool = True
    autopay: bool = True
    plan_changes: bool = True
    contact_changes: bool = True
    pay_without_sign_in: bool = True


@dataclass(frozen=True, slots=True)
class OperatorConfig:
    name: str = "billbot"
    legal_name: str = "billbot demo operator"
    address: tuple[str, ...] = ("1 Demo Street", "Washington, DC 20001")
    tax_id: str = ""
    logo: Path | None = None
    colors: Colors = field(default_factory=Colors)
    support: Support = field(default_factory=Support)
    legal_footer: str = ""
    bank: Bank = field(default_factory=Bank)
    upi: Upi = field(default_factory=Upi)
    features: Features = field(default_factory=Features)


DEFAULTS = OperatorConfig()


def load_operator_config(path: str | Path | None) -> OperatorConfig:
    """The configuration in `path` (None or empty: the defaults); SettingsError if bad."""
    if not path:
        return OperatorConfig()
    source = Path(path)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise SettingsError(f"BILLBOT_OPERATOR_CONFIG: cannot read {source}: {error}") from None
    except yaml.YAMLError as error:
        raise SettingsError(f"BILLBOT_OPERATOR_CONFIG: {source} is not YAML: {error}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"BILLBOT_OPERATOR_CONFIG: {source} must hold a mapping")
    return operator_config(raw, base=source.parent)


def operator_config(raw: Mapping[str, Any], *, base: Path = Path(".")) -> OperatorConfig:
    """The configuration from a parsed mapping; unknown keys and bad values are refused."""
    _known(raw, OperatorConfig, "")
    address = raw.get("address", DEFAULTS.address)
    if isinstance(address, str):
        address = tuple(part.strip() for part in address.splitlines() if part.strip())
    config = OperatorConfig(
        name=_text(raw, "name", DEFAULTS.name),
        legal_name=_text(raw, "legal_name", _text(raw, "name", DEFAULTS.legal_name)),
        address=tuple(str(part) for part in address),
        tax_id=_text(raw, "tax_id", ""),
        logo=_logo(raw.get("logo"), base),
        colors=_section(raw, "colors", Colors),
        support=_section(raw, "support", Support),
        legal_footer=_text(raw, "legal_footer", ""),
        bank=_section(raw, "bank", Bank),
        upi=_section(raw, "upi", Upi),
        features=_section(raw, "features", Features),
    )
    for name, value in (("primary", config.colors.primary), ("accent", config.colors.accent)):
        if not _COLOR.match(value):
            raise SettingsError(f"operator config: colors.{name} must look like #0b5cad")
    return config


def _known(raw: Mapping[str, Any], kind: type, prefix: str) -> None:
    allowed = {item.name for item in fields(kind)}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise SettingsError(f"operator config: unknown key {prefix}{unknown[0]}")


def _text(raw: Mapping[str, Any], key: str, default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str | int | float):
        raise SettingsError(f"operator config: {key} must be text")
    return str(value).strip()


def _section(raw: Mapping[str, Any], key: str, kind: type[T]) -> T:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise SettingsError(f"operator config: {key} must be a mapping")
    _known(value, kind, f"{key}.")
    for item in fields(kind):  # type: ignore[arg-type]
        if item.name in value and isinstance(item.default, bool) != isinstance(
            value[item.name], bool
        ):
            raise SettingsError(f"operator config: {key}.{item.name} has the wrong type")
    return kind(**{name: (v if isinstance(v, bool) else str(v)) for name, v in value.items()})


def _logo(value: object, base: Path) -> Path | None:
    if not value:
        return None
    path = (base / str(value)).resolve()
    if path.suffix.lower() not in (".svg", ".png") or not path.is_file():
        raise SettingsError(f"operator config: logo {value} must be an existing .svg or .png")
    return path
