"""The demo customers of DESIGN.md §6 (contract): who the demo chat lets a visitor act as."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    name: str
    phone: str
    pin: str
    summary: str


DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer("Alex Rivera", "+12025550101", "2468", "Postpaid, open bill due in 10 days"),
    DemoCustomer("Sam Lee", "+12025550102", "1357", "Postpaid, two lines, overdue bill"),
    DemoCustomer("María García", "+12025550104", "9753", "Prepaid, Spanish"),
)
