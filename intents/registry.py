"""The one explicit list of intents, in menu order. Only the composition root calls this."""

from __future__ import annotations

from bot.registry import Registry
from intents.alerts import AlertsIntent
from intents.balance import BalanceIntent
from intents.bar_sim import BarSimIntent
from intents.bill_limit import BillLimitIntent
from intents.continue_service import ContinueServiceIntent
from intents.invoice import InvoiceIntent
from intents.link_account import LinkAccountIntent, UnlinkAccountIntent
from intents.open_ticket import OpenTicketIntent
from intents.out_of_scope import OutOfScopeIntent
from intents.pay_bill import PayBillIntent
from intents.usage import UsageIntent
from intents.web_login import WebLoginIntent


def default_registry() -> Registry:
    return Registry(
        [
            BalanceIntent(),
            PayBillIntent(),
            BarSimIntent(),
            OpenTicketIntent(),
            UsageIntent(),
            InvoiceIntent(),
            WebLoginIntent(),
            AlertsIntent(),
            BillLimitIntent(),
            LinkAccountIntent(),
            UnlinkAccountIntent(),
            ContinueServiceIntent(),
            OutOfScopeIntent(),
        ]
    )
