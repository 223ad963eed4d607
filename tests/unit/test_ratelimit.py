"""The anonymous-flow rate limiter with a fake clock: windows, one polite reply, memory."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.ratelimit import Decision, Limit, RateLimiter, polite_reply
from tests.fakes import NOW

SENDER = ("sms", "+12025550199")


def limiter(max_senders: int = 10_000) -> RateLimiter:
    """3 messages per sender per 10 minutes, 100 a minute overall."""
    per_sender, overall = Limit(3, timedelta(minutes=10)), Limit(100, timedelta(minutes=1))
    return RateLimiter(per_sender=per_sender, overall=overall, max_senders=max_senders)


def test_a_sender_within_its_limit_is_allowed() -> None:
    limits, clock = limiter(), FakeClock(NOW)
    assert all(limits.check(SENDER, clock.now()).allowed for _ in range(3))


def test_over_the_limit_the_first_refusal_gets_a_reply_and_the_rest_silence() -> None:
    limits, clock = limiter(), FakeClock(NOW)
    for _ in range(3):
        limits.check(SENDER, clock.now())

    first = limits.check(SENDER, clock.now())
    again = limits.check(SENDER, clock.now())

    assert (first.decision, again.decision) == (Decision.REFUSED_FIRST, Decision.REFUSED_AGAIN)
    assert first.first_refusal and not again.first_refusal
    assert first.retry_after == again.retry_after == 600


def test_the_window_slides_and_retry_after_is_exact() -> None:
    limits, clock = limiter(), FakeClock(NOW)
    for _ in range(3):
        limits.check(SENDER, clock.now())
        clock.advance(minutes=2)
    # Sent at 0, 2 and 4 minutes; now it is 6: the first one leaves the window at 10.
    refused = limits.check(SENDER, clock.now())
    assert refused.retry_after == 4 * 60

    clock.advance(seconds=refused.retry_after)
    assert limits.check(SENDER, clock.now()).allowed
    assert not limits.check(SENDER, clock.now()).allowed  # the one sent at 2 minutes is in


def test_an_allowed_message_ends_the_silence_so_the_next_refusal_is_told_again() -> None:
    limits, clock = limiter(), FakeClock(NOW)
    for _ in range(4):
        limits.check(SENDER, clock.now())
    clock.advance(minutes=10)
    assert limits.check(SENDER, clock.now()).allowed
    for _ in range(2):
        limits.check(SENDER, clock.now())
    assert limits.check(SENDER, clock.now()).first_refusal


def test_refused_messages_do_not_count_against_the_sender() -> None:
    limits, clock = limiter(), FakeClock(NOW)
    for _ in range(50):
        limits.check(SENDER, clock.now())
    clock.advance(minutes=10)
    assert all(limits.check(SENDER, clock.now()).allowed for _ in range(3))


def test_senders_are_limited_separately() -> None:
    limits, clock = limiter(), FakeClock(NOW)
    for _ in range(4):
        limits.check(SENDER, clock.now())
    assert limits.check(("web", "session-2"), clock.now()).allowed
    assert limits.check(("sms", "+12025550198"), clock.now()).allowed


def test_the_overall_limit_holds_across_many_senders() -> None:
    per_sender, overall = Limit(10, timedelta(minutes=10)), Limit(5, timedelta(minutes=1))
    limits = RateLimiter(per_sender=per_sender, overall=overall)
    clock = FakeClock(NOW)
    verdicts = [limits.check(("web", f"s{n}"), clock.now()) for n in range(7)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 2
    assert all(v.first_refusal for v in verdicts[5:])  # each new sender is told once
    assert verdicts[5].retry_after == 60

    clock.advance(minutes=1)
    assert limits.check(("web", "s6"), clock.now()).allowed


def test_idle_senders_are_forgotten() -> None:
    limits, clock = limiter(), FakeClock(NOW)
    for n in range(100):
        limits.check(("web", f"s{n}"), clock.now())
    assert len(limits) == 100
    clock.advance(minutes=10)
    limits.check(SENDER, clock.now())
    assert len(limits) == 1


def test_memory_is_capped_by_dropping_the_least_recently_seen() -> None:
    limits, clock = limiter(max_senders=10), FakeClock(NOW)
    for n in range(25):
        limits.check(("web", f"s{n}"), clock.now())
        clock.advance(seconds=1)
    assert len(limits) == 10


def test_the_polite_reply_rounds_the_wait_up_to_minutes_in_english_and_spanish() -> None:
    limits, clock = limiter(), FakeClock(NOW)
    for _ in range(3):
        limits.check(SENDER, clock.now())
    full = limits.check(SENDER, clock.now())
    clock.advance(minutes=9, seconds=30)
    nearly = limits.check(SENDER, clock.now())

    assert (full.retry_after, nearly.retry_after) == (600, 30)
    assert "Please wait 10 minutes and try again." in polite_reply(full, "en_US")
    assert "Espera 10 minutos" in polite_reply(full, "es_ES")
    assert "Please wait 1 minute and try again." in polite_reply(nearly, "en_US")
    assert "Espera 1 minuto y" in polite_reply(nearly, "es_ES")


def test_the_default_limits_let_a_stranger_bar_a_phone_with_a_few_mistakes() -> None:
    limits, clock = RateLimiter(), FakeClock(NOW)
    conversation = ["lost my phone", "+1 202 555 0103", "1111", "2222", "3333", "1357", "yes"]
    for _ in conversation:
        assert limits.check(SENDER, clock.now()).allowed
        clock.advance(seconds=20)
