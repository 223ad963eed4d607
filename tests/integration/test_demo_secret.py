"""Demo mode without BILLBOT_SECRET_KEY signs links with a random secret kept per database."""

from __future__ import annotations

import asyncio

import pytest

from bot.bootstrap import resolve_secret
from bot.links import LinkError, LinkSigner
from bot.migrate import upgrade
from bot.settings import PLACEHOLDER_SECRET, Settings, SettingsError

DAY = 24 * 3600


async def test_one_database_keeps_one_demo_secret_across_restarts(db_url: str) -> None:
    demo = Settings(database_url=db_url, demo=True)
    first = await resolve_secret(demo)
    again = await resolve_secret(demo)  # a second process, or the same demo restarted
    assert first.secret_key == again.secret_key
    assert len(first.secret_key) >= 32
    assert first.secret_key != PLACEHOLDER_SECRET


async def test_links_signed_by_one_process_are_accepted_by_another_on_the_same_database(
    db_url: str,
) -> None:
    chat = await resolve_secret(Settings(database_url=db_url, demo=True))
    server = await resolve_secret(Settings(database_url=db_url, demo=True))
    url = LinkSigner(chat.secret_key, chat.public_url).pay_url("link-1")
    token = url.rsplit("/", 1)[1]
    assert LinkSigner(server.secret_key, server.public_url).pay_link_id(token, max_age=DAY) == (
        "link-1"
    )


async def test_two_processes_creating_the_secret_at_once_agree(db_url: str) -> None:
    demo = Settings(database_url=db_url, demo=True)
    results = await asyncio.gather(*(resolve_secret(demo) for _ in range(4)))
    assert len({settings.secret_key for settings in results}) == 1


async def test_two_databases_get_different_secrets_and_refuse_each_others_links(
    sqlite_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    second = f"sqlite:///{tmp_path_factory.mktemp('second') / 'billbot.db'}"
    await asyncio.to_thread(upgrade, second)
    one = await resolve_secret(Settings(database_url=sqlite_url, demo=True))
    other = await resolve_secret(Settings(database_url=second, demo=True))
    assert one.secret_key != other.secret_key
    token = LinkSigner(one.secret_key, one.public_url).pay_url("link-1").rsplit("/", 1)[1]
    with pytest.raises(LinkError):
        LinkSigner(other.secret_key, other.public_url).pay_link_id(token, max_age=DAY)


async def test_a_configured_secret_wins_over_the_databases(sqlite_url: str) -> None:
    configured = Settings(database_url=sqlite_url, demo=True, secret_key="configured-secret-0123")
    assert (await resolve_secret(configured)).secret_key == "configured-secret-0123"


@pytest.mark.parametrize("demo", [True, False])
async def test_the_published_placeholder_never_signs_anything(sqlite_url: str, demo: bool) -> None:
    placeholder = Settings(database_url=sqlite_url, demo=demo, secret_key=PLACEHOLDER_SECRET)
    with pytest.raises(SettingsError, match="placeholder"):
        await resolve_secret(placeholder)


async def test_production_without_a_secret_never_gets_a_generated_one(sqlite_url: str) -> None:
    with pytest.raises(SettingsError, match="BILLBOT_SECRET_KEY is not set"):
        await resolve_secret(Settings(database_url=sqlite_url, demo=False))
