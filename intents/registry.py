"""The one explicit list of intents, in menu order. Only the composition root calls this."""

from __future__ import annotations

from bot.registry import Registry
from intents.add_on import AddOnIntent
from intents.alerts import AlertsIntent
from intents.appointment import AppointmentIntent
from intents.balance import BalanceIntent
from intents.bar_sim import BarSimIntent
from intents.bill_explain import BillExplainIntent
from intents.bill_limit import BillLimitIntent
from intents.continue_service import ContinueServiceIntent
from intents.diagnostics import DiagnosticsIntent
from intents.help import HelpIntent
from intents.invoice import InvoiceIntent
from intents.link_account import LinkAccountIntent, UnlinkAccountIntent
from intents.not_me import NotMeIntent
from intents.open_ticket import OpenTicketIntent
from intents.out_of_scope import OutOfScopeIntent
from intents.pay_bill import PayBillIntent
from intents.payment_history import PaymentHistoryIntent
from intents.pin_reset import PinResetIntent
from intents.plan_change import PlanChangeIntent
from intents.port_lock import PortLockIntent
from intents.sim_swap import SimSwapIntent
from intents.ticket_status import TicketStatusIntent
from intents.top_up import TopUpIntent
from intents.unbar_sim import UnbarSimIntent
from intents.update_contact import UpdateContactIntent
from intents.usage import UsageIntent
from intents.web_login import WebLoginIntent


def default_registry() -> Registry:
    return Registry(
        [
            BalanceIntent(),
            PayBillIntent(),
            TopUpIntent(),
            BarSimIntent(),
            UnbarSimIntent(),
            OpenTicketIntent(),
            TicketStatusIntent(),
            UsageIntent(),
            PlanChangeIntent(),
            AddOnIntent(),
            InvoiceIntent(),
            BillExplainIntent(),
            PaymentHistoryIntent(),
            WebLoginIntent(),
            AlertsIntent(),
            BillLimitIntent(),
            LinkAccountIntent(),
            UnlinkAccountIntent(),
            ContinueServiceIntent(),
            NotMeIntent(),
            PinResetIntent(),
            UpdateContactIntent(),
            SimSwapIntent(),
            PortLockIntent(),
            DiagnosticsIntent(),
            AppointmentIntent(),
            HelpIntent(),
            OutOfScopeIntent(),
        ]
    )
