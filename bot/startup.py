"""Why a command could not start: one line for the operator, never a traceback.

`billbot demo|serve|chat|messages` and `billbot db …` print a `StartupError` as one line on
stderr and exit 1. The full traceback is logged at DEBUG (`BILLBOT_LOG_LEVEL=DEBUG`).
"""

from __future__ import annotations

import errno
import socket

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class StartupError(Exception):
    """A command cannot start (database unreachable, port busy): exit 1, one line."""


class DatabaseUnavailableError(StartupError):
    """The database cannot be reached, created or migrated."""


class PortInUseError(StartupError):
    """The web server cannot listen on the address it was given."""


def safe_url(url: str) -> str:
    """The URL for messages and logs: any password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def one_line(error: BaseException) -> str:
    """`Type: first line of the message`, for one-line reports."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def database_unavailable(url: str, error: BaseException) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(f"cannot use the database {safe_url(url)}: {one_line(error)}")


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (for uvicorn), or PortInUseError saying why not."""
    try:
        return socket.create_server((host, port), backlog=2048)
    except OSError as error:
        reason = (
            "the address is already in use"
            if error.errno == errno.EADDRINUSE
            else error.strerror or one_line(error)
        )
        raise PortInUseError(f"cannot listen on {host}:{port}: {reason}") from error
