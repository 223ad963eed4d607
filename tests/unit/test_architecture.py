"""The layering rules of DESIGN.md §1, checked on the source's import statements."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"bot", "channels", "intents", "billing_client", "scheduler", "web"}
FORBIDDEN = {
    "channels": {"intents"},
    "intents": {"channels", "web", "scheduler"},
    "billing_client": OURS - {"billing_client"},
    "bot": {"channels", "web", "scheduler"},
}
# The composition root and the CLI may wire anything; that is their job.
WIRING = {"bot/bootstrap.py", "bot/cli.py", "bot/cli_db.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_the_layering(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in WIRING or "/migrations/" in relative:
            continue
        bad = _imports(path) & FORBIDDEN[package]
        offenders.extend(f"{relative} imports {name}" for name in sorted(bad))
    assert offenders == []
