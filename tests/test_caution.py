"""Never acting on a mishearing: read-backs, choices between readings, and stops that are
never held back, on the simulated vehicle and plant."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistant.nlu.classifier import Classification
from assistant.stt import Transcript
from tests.conftest import Session


def _spoken(text: str, *, uncertain: str = "", alternatives: tuple[str, ...] = ()
            ) -> Transcript:
    return Transcript(text, uncertain=uncertain, alternatives=alternatives, engine="test")


def _audit(session: Session) -> list[dict[str, Any]]:
    return [json.loads(line) for line in
            session.audit_path.read_text(encoding="utf-8").splitlines()]


async def test_uncertain_words_for_a_plain_action_are_read_back(session: Session) -> None:
    heard = _spoken("Open the passenger window.", uncertain="low confidence (-0.60)")
    reply = await session.say(heard.text, heard)
    assert reply.endswith("?") and "passenger window" in reply.lower()
    assert "action" not in session.kinds()
    clarify = session.of("clarify")[0]
    assert clarify["kind"] == "read_back"
    assert clarify["tool"] == "set_window"
    assert clarify["arguments"] == {"window": "passenger", "position": 100}
    assert [r["kind"] for r in _audit(session)][-1] == "read_back_asked"
    await session.say("yes")
    assert session.of("action")[0]["tool"] == "set_window"


async def test_a_read_back_answered_no_does_nothing(session: Session) -> None:
    heard = _spoken("Set the fan speed to 7.", uncertain="corrected to a known sentence")
    await session.say(heard.text, heard)
    reply = await session.say("no")
    assert "not done" in reply
    assert "action" not in session.kinds()
    assert session.vehicle.fan_level != 7


async def test_a_read_back_expires_like_a_confirmation(session: Session) -> None:
    heard = _spoken("Turn on the air conditioning.", uncertain="low confidence (-0.70)")
    await session.say(heard.text, heard)
    session.clock.advance(8.5)
    reply = await session.say("yes")
    assert "cancelled" in reply.lower()
    assert "action" not in session.kinds()


async def test_readings_with_opposite_tools_ask_which(session: Session) -> None:
    heard = _spoken("Unlock the doors.", alternatives=("Lock the doors.",))
    reply = await session.say(heard.text, heard)
    assert "unlock the doors" in reply.lower() and "lock the doors" in reply.lower()
    assert reply.endswith("?")
    clarify = session.of("clarify")[0]
    assert clarify["kind"] == "choose"
    assert {o["tool"] for o in clarify["options"]} == {"unlock_doors", "lock_doors"}
    assert session.vehicle.locked
    assert "Are you sure?" in await session.say("unlock")  # still confirmed
    await session.say("yes")
    assert not session.vehicle.locked


async def test_the_answer_to_a_choice_can_be_the_other_reading(session: Session) -> None:
    session.vehicle.locked = False
    heard = _spoken("Unlock the doors.", alternatives=("Lock the doors.",))
    await session.say(heard.text, heard)
    await session.say("lock them")
    assert session.of("action")[0]["tool"] == "lock_doors"
    assert session.vehicle.locked


async def test_an_unclear_answer_to_a_choice_does_nothing(session: Session) -> None:
    heard = _spoken("Turn on the air conditioning.",
                    alternatives=("Turn off the air conditioning.",))
    await session.say(heard.text, heard)
    reply = await session.say("the weather is nice")
    assert "not done" in reply
    assert "action" not in session.kinds()


async def test_a_dropped_argument_that_changes_the_call_asks(session: Session) -> None:
    heard = _spoken("Open the passenger window.",
                    alternatives=("Open the passenger window a crack.",))
    await session.say(heard.text, heard)
    clarify = session.of("clarify")[0]
    assert clarify["kind"] == "choose"
    assert {o["arguments"]["position"] for o in clarify["options"]} == {100, 10}
    await session.say("a crack")
    assert session.of("action")[0]["arguments"] == {"window": "passenger", "position": 10}


async def test_a_stop_among_the_readings_runs_at_once(session: Session) -> None:
    await session.say("start the lathe")
    await session.say("yes")
    assert session.plant.running["lathe"]
    heard = _spoken("Start the lathe.", alternatives=("Stop the lathe.",))
    await session.say(heard.text, heard)
    assert not session.plant.running["lathe"]
    assert session.of("action")[-1]["tool"] == "stop_machine"
    assert "clarify" not in session.kinds()


async def test_an_uncertain_stop_is_never_held_back(session: Session) -> None:
    await session.say("start the welder")
    await session.say("yes")
    heard = _spoken("Stop the welder.", uncertain="low confidence (-0.90)",
                    alternatives=("Start the welder.",))
    await session.say(heard.text, heard)
    assert not session.plant.running["welder"]
    assert "clarify" not in session.kinds()


async def test_an_uncertain_question_is_answered(session: Session) -> None:
    heard = _spoken("What time is it?", uncertain="low confidence (-0.60)")
    await session.say(heard.text, heard)
    assert session.of("action")[0]["tool"] == "get_time"
    assert "clarify" not in session.kinds()


async def test_a_confirm_tool_heard_uncertainly_is_confirmed_once(session: Session) -> None:
    heard = _spoken("Start press one.", uncertain="low confidence (-0.60)")
    reply = await session.say(heard.text, heard)
    assert reply.endswith("Are you sure?")
    assert "clarify" not in session.kinds()


@pytest.mark.parametrize(("said", "tool"), [("Play something by the Beatles.", "play_media"),
                                            ("Navigate to the train station.", "navigate_to")])
async def test_free_words_from_speech_are_read_back_however_sure(
        session: Session, said: str, tool: str) -> None:
    reply = await session.say(said, _spoken(said))
    assert reply.endswith("?")
    assert session.of("clarify")[0]["kind"] == "read_back"
    assert session.of("clarify")[0]["tool"] == tool and "action" not in session.kinds()
    await session.say("yes")
    assert session.of("action")[0]["tool"] == tool


async def test_free_words_given_as_an_answer_are_read_back_too(session: Session) -> None:
    asked = await session.say("Navigate.", _spoken("Navigate."))
    assert asked.endswith("?") and "clarify" not in session.kinds()
    reply = await session.say("The train station.", _spoken("The train station."))
    assert reply.endswith("?") and "train station" in reply.lower()
    assert session.of("clarify")[0]["tool"] == "navigate_to"
    assert "action" not in session.kinds()
    await session.say("yes")
    assert session.of("action")[0]["arguments"] == {"destination": "the train station"}


async def test_a_new_request_instead_of_yes_is_checked_as_well(session: Session) -> None:
    """A read-back answered with another request from speech: that one is asked about
    too, not run because it came second."""
    await session.say("Play something by the details.",
                      _spoken("Play something by the details."))
    reply = await session.say("Play something by the Beatles.",
                              _spoken("Play something by the Beatles."))
    assert reply.endswith("?") and "action" not in session.kinds()
    assert [c["arguments"]["query"] for c in session.of("clarify")] == \
        ["something by the details", "something by the beatles"]


async def test_free_words_typed_just_run(session: Session) -> None:
    await session.say("play something by the beatles")
    assert session.of("action")[0]["tool"] == "play_media"
    assert "clarify" not in session.kinds()


async def test_typed_text_is_never_second_guessed(session: Session) -> None:
    await session.say("open the passenger window")
    assert session.of("action")[0]["tool"] == "set_window"
    assert "clarify" not in session.kinds()


async def test_a_classifier_guess_from_speech_is_read_back(session: Session) -> None:
    heard = _spoken("Could you get some fresh air going?")
    spoken = session.assistant.understanding.decide(heard.text, spoken=True)
    assert (spoken.route, spoken.tool) == ("classifier", "set_window")
    await session.say(heard.text, heard)
    assert session.of("clarify")[0]["kind"] == "read_back"
    assert "action" not in session.kinds()


async def test_a_weak_classifier_guess_from_speech_is_declined(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    understanding = session.assistant.understanding
    guess = Classification("change_temperature", {"delta": 2}, frozenset(), 0.4)
    monkeypatch.setattr(understanding.classifier, "classify", lambda text: guess)
    typed = understanding.decide("it feels chilly in the cabin")
    assert (typed.route, typed.tool) == ("classifier", "change_temperature")
    assert understanding.decide("It feels chilly in the cabin.", spoken=True).tool is None


async def test_a_certain_grammar_match_from_speech_just_runs(session: Session) -> None:
    heard = _spoken("Set the temperature to 21 degrees.")
    await session.say(heard.text, heard)
    assert session.of("action")[0]["arguments"] == {"celsius": 21, "zone": "all"}
    assert "clarify" not in session.kinds()
