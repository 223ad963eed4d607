"""Proactive alerts: what is due for whom, when, on which channel (docs/alerts.md)."""
