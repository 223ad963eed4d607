"""The operator's YAML: defaults when absent, every section read, bad values refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.operator import OperatorConfig, load_operator_config
from bot.settings import Settings, SettingsError

FULL = """
name: Example Mobile
legal_name: Example Mobile Ltd.
address: |
  1 Main Street
  Springfield, IL 62701
tax_id: US-12-3456789
logo: logo.svg
colors: {primary: "#005a9c", accent: "#1e6b35"}
support: {phone: "+1 202 555 0142", email: care@example.com, hours: "24/7",
          url: "https://example.com/help"}
legal_footer: Example Mobile Ltd. is a registered telecoms provider.
bank: {iban: DE89370400440532013000, bic: COBADEFFXXX, beneficiary: Example Mobile GmbH}
upi: {vpa: examplemobile@okaxis, payee: Example Mobile}
features: {usage: false, autopay: false, pay_without_sign_in: false}
"""


def test_no_file_means_the_defaults() -> None:
    assert load_operator_config(None) == OperatorConfig()
    assert load_operator_config("") == OperatorConfig()


def test_every_section_is_read(tmp_path: Path) -> None:
    (tmp_path / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    path = tmp_path / "operator.yaml"
    path.write_text(FULL)

    config = load_operator_config(path)

    assert config.name == "Example Mobile" and config.legal_name == "Example Mobile Ltd."
    assert config.address == ("1 Main Street", "Springfield, IL 62701")
    assert config.logo == (tmp_path / "logo.svg").resolve()
    assert config.colors.primary == "#005a9c"
    assert config.support.phone == "+1 202 555 0142" and config.support.hours == "24/7"
    assert config.bank.iban == "DE89370400440532013000" and config.upi.vpa.startswith("example")
    assert not config.features.usage and not config.features.autopay
    assert config.features.invoices and config.features.contact_changes  # unset: on


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("nme: typo", "unknown key nme"),
        ("features: {usage: 'no'}", "features.usage has the wrong type"),
        ("features: {autopay_now: true}", "unknown key features.autopay_now"),
        ("colors: {primary: blue}", "colors.primary must look like"),
        ("logo: missing.png", "logo missing.png must be an existing"),
        ("- a list", "must hold a mapping"),
        ("name: [unclosed", "is not YAML"),
        ("support: 5", "support must be a mapping"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "operator.yaml"
    path.write_text(text)

    with pytest.raises(SettingsError, match=reason):
        load_operator_config(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read"):
        load_operator_config(tmp_path / "nope.yaml")


def test_settings_read_the_web_and_payment_variables() -> None:
    settings = Settings.from_env(
        {
            "BILLBOT_DEMO": "1",
            "BILLBOT_OPERATOR_CONFIG": "/etc/billbot/operator.yaml",
            "BILLBOT_PAYMENT_PROVIDER": "Stripe",
            "BILLBOT_STRIPE_SECRET_KEY": "sk_test_x",
            "BILLBOT_STRIPE_WEBHOOK_SECRET": "whsec_x",
            "BILLBOT_STRIPE_API_BASE": "http://127.0.0.1:9/",
        }
    )

    assert settings.operator_config == "/etc/billbot/operator.yaml"
    assert settings.payment_provider == "stripe"
    assert settings.stripe_api_base == "http://127.0.0.1:9"
    assert "sk_test_x" not in repr(settings) and "whsec_x" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"BILLBOT_PAYMENT_PROVIDER": "paypal"}, "must be 'sandbox' or 'stripe'"),
        ({"BILLBOT_PAYMENT_PROVIDER": "stripe"}, "needs BILLBOT_STRIPE_SECRET_KEY"),
    ],
)
def test_bad_payment_settings_are_refused(env: dict[str, str], reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        Settings.from_env({"BILLBOT_DEMO": "1", **env})


def test_live_messages_with_sandbox_payments_are_refused_outside_demo_mode() -> None:
    with pytest.raises(SettingsError, match="needs a real payment provider"):
        Settings(delivery="live", secret_key="k" * 40).check()
