"""Reading a new request when the recogniser is unsure ("did you mean A or B?") or hears two
("pay my bill and block my sim"): bot/clarify.py through the router, and the splitting of a
message into requests (bot/nlu/requests.py)."""

from __future__ import annotations

from bot.nlu.requests import lead_and_also, pieces, requests
from tests.unit.test_topic_switch import MARIA, Chat

CLOSE = (("balance", 0.41), ("bar_sim", 0.36), ("out_of_scope", 0.1))


# --- did you mean? ----------------------------------------------------------------------------
async def test_a_close_call_asks_which_of_the_two_with_both_as_options() -> None:
    chat = Chat()

    answer = await chat.say("my bill block", "balance", ranking=CLOSE)

    assert answer == "I want to be sure I get this right. Did you mean one of these?"
    assert [(o.label, o.value) for o in chat.last.options] == [
        ("My balance", "intent:balance"),
        ("Block my SIM", "intent:bar_sim"),
        ("Something else", "menu"),
    ]
    assert not chat.conv.state.active


async def test_picking_one_answers_it() -> None:
    chat = Chat()
    await chat.say("my bill block", "balance", ranking=CLOSE)

    assert await chat.say("1") == "You owe $64.20."


async def test_a_clear_winner_or_a_stranger_is_not_asked() -> None:
    clear = (("balance", 0.8), ("bar_sim", 0.1))
    assert await Chat().say("what do i owe", "balance", ranking=clear) == "You owe $64.20."
    stranger = Chat(account=None)
    assert "Did you mean" not in await stranger.say("my bill block", "balance", ranking=CLOSE)


async def test_an_off_topic_message_with_little_confidence_anywhere_is_not_asked() -> None:
    spread = (("balance", 0.14), ("bar_sim", 0.12), ("out_of_scope", 0.1))

    answer = await Chat().say("what's the weather", "out_of_scope", ranking=spread)

    assert answer == "Sorry, I didn't get that."


async def test_spanish_asks_in_spanish() -> None:
    answer = await Chat(account=MARIA).say("saldo bloqueo", "balance", ranking=CLOSE)

    assert answer.startswith("Quiero asegurarme de entenderte bien.")


# --- two requests in one message --------------------------------------------------------------
async def test_the_second_request_is_offered_once_the_first_is_answered() -> None:
    chat = Chat()

    answer = await chat.say("what do i owe and block my sim", "balance", also="bar_sim")

    assert answer.startswith("You owe $64.20.")
    assert answer.endswith('You also asked about "Block my SIM". Shall we do that now?')
    assert chat.last.options[-1].value == "resume:bar_sim"
    assert await chat.say("yes") == "What's your PIN?"  # the block flow, started


async def test_a_second_request_waits_until_the_first_flow_is_done() -> None:
    chat = Chat()

    first = await chat.say("block my sim and what do i owe", "bar_sim", also="balance")

    assert "You also asked" not in first and chat.conv.state.flow == "bar_sim"
    assert [frame.flow for frame in chat.conv.suspended] == ["balance"]


async def test_the_same_intent_twice_is_one_request() -> None:
    chat = Chat()
    assert await chat.say("balance and balance", "balance", also="balance") == "You owe $64.20."
    assert chat.conv.suspended == []


# --- splitting a message ----------------------------------------------------------------------
def test_a_message_is_cut_at_the_words_that_join_requests() -> None:
    assert pieces("pay my bill and block my sim") == ["pay my bill", "block my sim"]
    assert pieces("saldo y tambien recargar diez") == ["recargar diez"]  # "saldo": one word
    assert pieces("check my usage, then upgrade my plan") == ["check my usage", "upgrade my plan"]
    assert pieces("quiero pagar y bloquear la sim") == ["quiero pagar", "bloquear la sim"]


def test_two_confident_different_pieces_are_two_requests_in_their_order() -> None:
    readings = {"pay my bill": ("pay_bill", 0.9), "block my sim": ("bar_sim", 0.8)}

    found = requests("pay my bill and block my sim", readings.__getitem__)

    assert found == ["pay_bill", "bar_sim"]
    assert lead_and_also("bar_sim", found) == ("pay_bill", "bar_sim")


def test_unsure_or_same_pieces_and_messages_without_a_join_are_one_request() -> None:
    unsure = {"pay my bill": ("pay_bill", 0.9), "some other thing": ("bar_sim", 0.3)}
    assert requests("pay my bill and some other thing", unsure.__getitem__) == ["pay_bill"]
    same = {"my phone was lost": ("bar_sim", 0.9), "i need to block it": ("bar_sim", 0.9)}
    assert requests("my phone was lost and i need to block it", same.__getitem__) == ["bar_sim"]
    assert requests("block my sim please", lambda piece: ("bar_sim", 1.0)) == []
    assert lead_and_also("balance", ["balance"]) == ("balance", None)
