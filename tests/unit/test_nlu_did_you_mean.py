"""`ParseResult.did_you_mean`: the two best intents, when it is worth asking which one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.nlu import NluModel
from bot.nlu.types import CLOSE_CALL_MARGIN, OUT_OF_SCOPE, ParseResult

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "nlu_heldout.jsonl"


def parsed(*ranking: tuple[str, float]) -> ParseResult:
    return ParseResult("text", ranking[0][0], ranking[0][1], (), ranking)


def test_two_close_in_scope_intents_are_offered_with_their_confidences() -> None:
    result = parsed(("bar_sim", 0.45), ("unbar_sim", 0.40), ("balance", 0.15))
    assert result.did_you_mean() == (("bar_sim", 0.45), ("unbar_sim", 0.40))


def test_a_clear_winner_needs_no_question() -> None:
    assert parsed(("bar_sim", 0.80), ("unbar_sim", 0.10)).did_you_mean() is None


def test_the_margin_can_be_widened() -> None:
    result = parsed(("bar_sim", 0.50), ("unbar_sim", 0.25))
    assert result.did_you_mean() is None
    assert result.did_you_mean(margin=0.25) == (("bar_sim", 0.50), ("unbar_sim", 0.25))


@pytest.mark.parametrize(
    "ranking",
    [
        ((OUT_OF_SCOPE, 0.40), ("balance", 0.38)),
        (("balance", 0.40), (OUT_OF_SCOPE, 0.38)),
    ],
)
def test_out_of_scope_is_never_offered(ranking: tuple[tuple[str, float], ...]) -> None:
    assert parsed(*ranking).did_you_mean() is None


def test_junk_has_nothing_to_offer() -> None:
    assert parsed((OUT_OF_SCOPE, 0.0)).did_you_mean() is None


def test_the_real_model_offers_the_top_of_its_ranking(nlu_model: NluModel) -> None:
    with HELDOUT.open(encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines if line.strip()]
    offers = [(result, result.did_you_mean()) for result in map(nlu_model.parse, texts)]
    close = [(result, pair) for result, pair in offers if pair is not None]
    assert close, "the held-out set has close calls"
    for result, pair in close:
        assert pair == result.ranking[:2]
        assert OUT_OF_SCOPE not in (pair[0][0], pair[1][0])
        assert pair[0][1] - pair[1][1] <= CLOSE_CALL_MARGIN
