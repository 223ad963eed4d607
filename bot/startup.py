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
        return _tcp_server(host, port)
    except OSError as error:
        reason = (
            "the address is already in use"
            if error.errno == errno.EADDRINUSE
            else error.strerror or one_line(error)
        )
        raise PortInUseError(f"cannot listen on {host}:{port}: {reason}") from error


def _tcp_server(host: str, port: int) -> socket.socket:
    """Like `socket.create_server`, but with the protocol named: asyncio turns Nagle off
    (TCP_NODELAY) only on sockets whose `proto` says TCP, and an accepted socket inherits the
    listener's. With proto 0, every keep-alive response waited ~40 ms for a delayed ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock
