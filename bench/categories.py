"""Which part of the stack a profiled function belongs to: ours, a library, or the runtime."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = frozenset({"bot", "intents", "billing_client", "web", "channels", "scheduler"})
LIBRARIES = {
    "sqlalchemy": "SQLAlchemy",
    "aiosqlite": "aiosqlite (its thread runs SQLite)",
    "sqlite3": "sqlite3 driver",
    "asyncpg": "asyncpg",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "fastapi": "FastAPI / Starlette",
    "starlette": "FastAPI / Starlette",
    "anyio": "anyio",
    "uvicorn": "uvicorn / HTTP parsing",
    "h11": "uvicorn / HTTP parsing",
    "httptools": "uvicorn / HTTP parsing",
    "asyncio": "asyncio event loop",
    "selectors": "asyncio event loop",
    "concurrent": "threads and queues",
    "threading": "threads and queues",
    "queue": "threads and queues",
    "sklearn": "NLU (scikit-learn, numpy)",
    "numpy": "NLU (scikit-learn, numpy)",
    "scipy": "NLU (scikit-learn, numpy)",
    "phonenumbers": "phonenumbers",
    "babel": "babel",
    "json": "json",
    "logging": "logging",
    "bench": "the bench's own driver",
    "greenlet": "SQLAlchemy",  # its async bridge
}
# cProfile names C functions "<method 'x' of 'y' objects>" or "<built-in method m.x>".
BUILTIN_HINTS = (
    ("epoll", "waiting for I/O (epoll)"),
    ("select.", "waiting for I/O (epoll)"),
    ("sqlite3", "sqlite3 driver"),
    ("_asyncio", "asyncio event loop"),
    ("_thread", "threads and queues"),
    ("pydantic_core", "pydantic"),
    ("asyncpg", "asyncpg"),
    ("_json", "json"),
)
_PREFIXES = tuple(
    sorted(
        {
            *(str(Path(p)) + "/" for p in sys.path if p),
            *(sysconfig.get_paths()[key] + "/" for key in ("stdlib", "purelib", "platlib")),
            str(ROOT) + "/",
        },
        key=len,
        reverse=True,
    )
)


def short_path(filename: str) -> str:
    """`/…/site-packages/sqlalchemy/orm/session.py` → `sqlalchemy/orm/session.py`."""
    for prefix in _PREFIXES:
        if filename.startswith(prefix):
            return filename[len(prefix) :]
    return filename


def category(filename: str, function: str = "") -> str:
    """A short label: "billbot bot/", "SQLAlchemy", "asyncio event loop", "C builtins", …."""
    if filename in ("~", ""):
        return _builtin(function)
    if filename.startswith("<"):  # "<sqlalchemy generated …>", "<frozen abc>", "<string>"
        return "SQLAlchemy" if "sqlalchemy" in filename else "Python stdlib (other)"
    top = short_path(filename).split("/", 1)[0].removesuffix(".py")
    if top in OURS:
        return f"billbot {top}/"
    if top in LIBRARIES:
        return LIBRARIES[top]
    return "Python stdlib (other)" if top in sys.stdlib_module_names else f"other: {top}"


def is_ours(filename: str) -> bool:
    return short_path(filename).split("/", 1)[0] in OURS


def _builtin(function: str) -> str:
    for hint, label in BUILTIN_HINTS:
        if hint in function:
            return label
    return "C builtins"
