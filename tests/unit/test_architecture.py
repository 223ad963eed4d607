"""The layering rules of DESIGN.md §1, checked on the source's import statements and calls.

- Packages import only the layers DESIGN.md §1 allows (channels never import intents, intents
  never import channels, web or scheduler, billing_client imports nothing of ours, …).
- One composition root: `bot/bootstrap.py` is the only module outside `billing_client/` that
  imports the concrete SQL adapter (`billing_client.sql`) or the intents (`intents`, the
  registry), and the only one that constructs the outbox, the SQL billing client or database
  engines. The CLI, `bot/store`, `web/` and `scheduler/` get what they need from bootstrap.
  Alembic's `bot/migrations/` may import the billing models: it needs their metadata.
- The CLI (`bot/cli.py`) is an entry point like a web route: it may start the web app and the
  console channel, but it too gets adapters from bootstrap.

Tests and benchmarks may import anything; they are not scanned.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"bot", "channels", "intents", "billing_client", "scheduler", "web"}
COMPOSITION_ROOT = "bot/bootstrap.py"
MIGRATIONS = "bot/migrations/"
# Top-level packages each package may not import (DESIGN.md §1).
FORBIDDEN = {
    "channels": {"intents"},
    "intents": {"channels", "web", "scheduler"},
    "billing_client": OURS - {"billing_client"},
    "bot": {"channels", "web", "scheduler", "intents"},
    "web": {"intents"},
    "scheduler": {"intents", "web", "channels"},
}
# Entry points in bot/ that start the outer layers (never intents or concrete adapters).
ENTRY_POINT_MAY_IMPORT = {
    "bot/cli.py": {"channels", "web", "scheduler"},
    "bot/cli_alerts.py": {"scheduler"},
}
# Modules only the composition root (and the package itself) may import.
ROOT_ONLY_MODULES = {"billing_client.sql": "billing_client/", "intents": "intents/"}
# Constructors of concrete adapters: called only by the composition root (and their package).
ROOT_ONLY_CALLS = {
    "Outbox",
    "SqlBillingClient",
    "create_engine",
    "create_async_engine",
    "session_factory",
    "async_sessionmaker",
    "SandboxProvider",
    "StripeProvider",
}


def _package_of(relative: str) -> str:
    """The package a file's relative imports start from: `bot/store/sql.py` → `bot.store`."""
    return ".".join(relative.split("/")[:-1])


def imported_modules(source: str, package: str) -> set[str]:
    """Every module `source` imports, fully dotted, lazy and relative imports included.

    `package` is the file's package (for relative imports). `from a import b` yields both `a`
    and `a.b` (b may be a submodule).
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def called_names(source: str) -> set[str]:
    """Names called in `source`: `f(...)` gives f, `a.b.f(...)` gives f."""
    called: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                called.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                called.add(node.func.attr)
    return called


def _product_files() -> Iterator[tuple[str, str]]:
    for package in sorted(OURS):
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def _top_levels(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules if name}


def _is_within(module: str, target: str) -> bool:
    return module == target or module.startswith(target + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_the_layering(package: str) -> None:
    offenders = []
    for relative, source in _product_files():
        if not relative.startswith(package + "/") or relative == COMPOSITION_ROOT:
            continue
        if relative.startswith(MIGRATIONS):
            continue
        allowed = ENTRY_POINT_MAY_IMPORT.get(relative, set())
        imported = _top_levels(imported_modules(source, _package_of(relative)))
        bad = imported & (FORBIDDEN[package] - allowed)
        offenders.extend(f"{relative} imports {name}" for name in sorted(bad))
    assert offenders == []


@pytest.mark.parametrize("target", sorted(ROOT_ONLY_MODULES))
def test_only_the_composition_root_imports_concrete_adapters_and_intents(target: str) -> None:
    home = ROOT_ONLY_MODULES[target]
    offenders = []
    for relative, source in _product_files():
        if relative in (COMPOSITION_ROOT,) or relative.startswith((home, MIGRATIONS)):
            continue
        modules = imported_modules(source, _package_of(relative))
        if any(_is_within(name, target) for name in modules):
            offenders.append(f"{relative} imports {target}")
    assert offenders == []


def test_only_the_composition_root_constructs_the_outbox_billing_client_and_engines() -> None:
    offenders = []
    for relative, source in _product_files():
        if relative == COMPOSITION_ROOT or relative.startswith(("billing_client/", MIGRATIONS)):
            continue
        for name in sorted(called_names(source) & ROOT_ONLY_CALLS):
            offenders.append(f"{relative} calls {name}()")
    assert offenders == []


def test_the_import_check_sees_lazy_relative_and_from_imports() -> None:
    source = (
        "import intents.registry\n"
        "from billing_client import sql\n"
        "from . import engine\n"
        "from ..web import app\n"
        "def later():\n"
        "    from billing_client.sql.seed import seed_demo\n"
    )
    modules = imported_modules(source, "bot.store")
    assert "intents.registry" in modules
    assert "billing_client.sql" in modules
    assert "bot.store.engine" in modules
    assert "bot.web.app" in modules
    assert "billing_client.sql.seed" in modules


def test_the_call_check_sees_plain_and_attribute_calls() -> None:
    source = "x = Outbox(s, c)\ny = database.create_engine(url)\nz = session_factory\n"
    assert called_names(source) == {"Outbox", "create_engine"}
