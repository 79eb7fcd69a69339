"""Safety rules of the dialogue and dispatcher, on the simulated vehicle and plant."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.dispatch.dispatcher import AUDIT_REFUSAL
from tests.conftest import AWAIT_LIMIT, Session


def _audit(session: Session) -> list[dict[str, object]]:
    lines = session.audit_path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


async def test_confirm_tool_runs_only_after_yes(session: Session) -> None:
    assert (await session.say("unlock the doors")).endswith("Are you sure?")
    assert session.vehicle.locked
    assert await session.say("yes") == "Doors unlocked."
    assert not session.vehicle.locked
    assert session.kinds() == ["intent", "confirm", "reply", "action", "reply"]


@pytest.mark.parametrize("answer", ["2", "two"])
async def test_a_bare_number_answers_how_long_in_the_slots_unit(
        session: Session, answer: str) -> None:
    """The timer's duration is declared in seconds: "For how long?" "2" is 2 seconds."""
    assert await session.say("set a timer") == "For how long?"
    assert (await session.say(answer)).startswith("Timer set for 2 seconds")


async def test_no_cancels_and_says_so(session: Session) -> None:
    await session.say("unlock the doors")
    reply = await session.say("no")
    assert "cancelled" in reply.lower()
    assert session.vehicle.locked


async def test_silence_cancels_after_eight_seconds(session: Session) -> None:
    await session.say("start press one")
    session.clock.advance(7.9)
    assert await asyncio.wait_for(session.assistant.dialogue.expire(), AWAIT_LIMIT) is None
    session.clock.advance(0.2)
    reply = await asyncio.wait_for(session.assistant.dialogue.expire(), AWAIT_LIMIT)
    assert reply is not None
    assert "cancelled" in reply.lower()
    assert await session.say("yes") == "There's nothing to confirm."
    assert not session.plant.running["press_1"]


async def test_a_late_yes_does_not_act(session: Session) -> None:
    await session.say("unlock the doors")
    session.clock.advance(8.5)
    reply = await session.say("yes")
    assert "cancelled" in reply.lower()
    assert session.vehicle.locked


async def test_anything_else_cancels_the_confirmation(session: Session) -> None:
    await session.say("unlock the doors")
    reply = await session.say("what time is it")
    assert reply.startswith("Cancelled: unlock the doors was not done.")
    assert "It's" in reply
    assert session.vehicle.locked
    assert await session.say("yes") == "There's nothing to confirm."


async def test_immediate_tool_runs_at_once_during_a_confirmation(session: Session) -> None:
    session.plant.running["lathe"] = True
    await session.say("start press one")
    reply = await session.say("stop the lathe")
    assert reply.startswith("Lathe stopped.")
    assert not session.plant.running["lathe"]
    kinds = session.kinds()
    assert kinds.index("action") < kinds.index("cancelled")
    assert await session.say("yes") == "There's nothing to confirm."
    assert not session.plant.running["press_1"]


async def test_emergency_stop_latches_and_start_is_refused(session: Session) -> None:
    session.plant.running["welder"] = True
    reply = await session.say("emergency stop")
    assert "not the hard-wired emergency stop" in reply
    assert not any(session.plant.running.values())
    refusal = await session.say("start the welder")
    assert "stop-all is latched" in refusal
    assert session.of("refused")[-1]["tool"] == "start_machine"
    session.plant.reset_at_plant()
    assert (await session.say("start the welder")).endswith("Are you sure?")


async def test_latched_conveyor_may_still_be_stopped(session: Session) -> None:
    await session.say("emergency stop")
    assert "latched" in await session.say("set conveyor one to 50 percent")
    assert session.plant.conveyor_speeds["conveyor_1"] == 0
    assert await session.say("stop conveyor one") == "Conveyor one stopped."


async def test_start_is_refused_while_the_machine_has_an_alarm(session: Session) -> None:
    session.plant.raise_alarm("welder", "wire feed jammed")
    reply = await session.say("start the welder")
    assert "active alarm" in reply
    assert "confirm" not in session.kinds()
    await session.say("acknowledge the alarm on the welder")
    assert (await session.say("start the welder")).endswith("Are you sure?")
    assert await session.say("yes") == "Welder started."


async def test_interlock_is_checked_again_after_yes(session: Session) -> None:
    await session.say("start press one")
    await asyncio.wait_for(session.plant.stop_all(), AWAIT_LIMIT)
    reply = await session.say("yes")
    assert "latched" in reply
    assert not session.plant.running["press_1"]


async def test_unlock_is_refused_while_moving(make_session: Callable[..., Session]) -> None:
    session = make_session(vehicle={"speed_kmh": 50})
    reply = await session.say("unlock the doors")
    assert "moving" in reply
    assert "confirm" not in session.kinds()
    assert session.vehicle.locked


@pytest.mark.parametrize(
    ("text", "reply"),
    [("set the temperature to 40 degrees", "The temperature can be set from 16 to 30 degrees."),
     ("set the fan speed to 9", "The fan speed can be set from 0 to 7."),
     ("set conveyor two to 120 percent", "The conveyor speed can be set from 0 to 100 percent.")],
)
async def test_out_of_range_is_refused_with_what_is_allowed(
    session: Session, text: str, reply: str
) -> None:
    before = (dict(session.vehicle.cabin), session.vehicle.fan_level,
              dict(session.plant.conveyor_speeds))
    assert await session.say(text) == reply
    after = (dict(session.vehicle.cabin), session.vehicle.fan_level,
             dict(session.plant.conveyor_speeds))
    assert after == before
    assert "action" not in session.kinds()
    assert _audit(session)[-1]["kind"] == "refused"


async def test_unknown_machine_is_refused_with_the_known_names(session: Session) -> None:
    reply = await session.say("start press nine")
    assert "press 9" in reply
    assert "lathe" in reply


async def test_missing_argument_is_asked_for_and_filled(session: Session) -> None:
    assert await session.say("open the window") == "Which window?"
    assert session.assistant.dialogue.awaiting
    assert await session.say("the passenger one") == "Passenger window open."
    assert session.vehicle.windows["passenger"] == 100


async def test_missing_argument_can_be_cancelled(session: Session) -> None:
    await session.say("set the seat heater to two")
    assert await session.say("cancel") == "Okay, cancelled."
    assert not session.assistant.dialogue.awaiting


async def test_say_that_again_repeats_the_last_reply(session: Session) -> None:
    first = await session.say("what's the fuel level")
    assert await session.say("say that again") == first


async def test_audit_failure_refuses_to_act(make_session: Callable[..., Session],
                                            tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("", encoding="utf-8")
    session = make_session(audit_path=blocked / "audit.jsonl")
    assert await session.say("open the driver window") == AUDIT_REFUSAL
    assert session.vehicle.windows["driver"] == 0
    assert session.of("error")[0]["code"] == "audit-write-failed"
    await session.say("unlock the doors")
    assert session.vehicle.locked


async def test_a_stop_still_runs_when_the_audit_fails(make_session: Callable[..., Session],
                                                      tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("", encoding="utf-8")
    session = make_session(audit_path=blocked / "audit.jsonl")
    session.plant.running["lathe"] = True
    reply = await session.say("stop the lathe")
    assert not session.plant.running["lathe"]
    assert "audit log could not be written" in reply


async def test_every_step_is_audited_before_the_reply(session: Session) -> None:
    await session.say("unlock the doors")
    await session.say("yes")
    kinds = [record["kind"] for record in _audit(session)]
    assert kinds == ["decided", "confirm_requested", "confirmed", "executing", "result"]


_WORDS = st.sampled_from(["yes", "no", "cancel", "say that again", "unlock the doors",
                          "start press one", "open the window", "stop the lathe", "emergency stop",
                          "the driver's", "set the temperature to 40", "stop", "passenger", ""])


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.one_of(_WORDS, st.text(max_size=60)), max_size=8),
       st.lists(st.floats(min_value=0, max_value=20), max_size=8))
def test_no_conversation_crashes_the_dialogue(
    make_session: Callable[..., Session], utterances: list[str], pauses: list[float]
) -> None:
    async def converse() -> None:
        session = make_session()
        for index, text in enumerate(utterances):
            if index < len(pauses):
                session.clock.advance(pauses[index])
            assert isinstance(await session.say(text), str)

    asyncio.run(converse())


async def test_a_stop_is_never_the_answer_to_a_question(session: Session) -> None:
    """Issue 12: "stop all" said to "Which window?" opened every window."""
    assert await session.say("open the window") == "Which window?"
    reply = await session.say("stop all")
    assert session.of("action")[0]["tool"] == "emergency_stop"
    assert session.plant.latched
    assert all(position == 0 for position in session.vehicle.windows.values())
    assert reply.endswith("The earlier request was cancelled.")
    assert not session.assistant.dialogue.awaiting


async def test_a_stop_is_never_the_text_of_a_note(session: Session) -> None:
    """Issue 12: "emergency stop" became the note, and press one then started."""
    assert await session.say("log a note for the lathe") == "What should the note say?"
    await session.say("emergency stop")
    assert session.plant.latched and session.plant.notes == []
    assert "latched" in await session.say("start press one")
    assert await session.say("yes") == "There's nothing to confirm."
    assert not session.plant.running["press_1"]


@pytest.mark.parametrize(
    ("request_", "question", "answer", "done"),
    [("set the temperature", "To what temperature? 16 to 30 degrees.", "twenty two",
      "Temperature set to 22 degrees everywhere."),
     ("set the volume", "Which volume? 0 to 100 percent.", "40", "Volume 40."),
     ("set the fan speed", "Which fan speed? 0 to 7.", "three", "Fan speed 3."),
     ("start a machine", "Which machine?", "the welder", "Start welder. Are you sure?"),
     ("close the window", "Which window?", "the driver's", "Driver window closed."),
     ("set conveyor speed to 40 percent", "Which conveyor?", "conveyor two",
      "Conveyor two at 40 percent.")],
)
async def test_every_missing_argument_is_asked_for(
    session: Session, request_: str, question: str, answer: str, done: str
) -> None:
    assert await session.say(request_) == question
    assert await session.say(answer) == done


async def test_a_stop_said_instead_of_the_answer_acts(session: Session) -> None:
    session.plant.running["lathe"] = True
    assert await session.say("start a machine") == "Which machine?"
    await session.say("stop the lathe")
    assert [a["tool"] for a in session.of("action")] == ["stop_machine"]
    assert "confirm" not in session.kinds()
    assert not session.plant.running["lathe"]


async def test_an_unconfirmed_stop_is_neither_done_nor_not_done(session: Session) -> None:
    from skills.factory.plant import BusFault

    session.plant.fault = BusFault.NO_ACK
    reply = await session.say("emergency stop")
    [action] = session.of("action")
    assert (action["ok"], action["outcome"]) == (False, "unconfirmed")
    assert reply.startswith("Sent, but not confirmed:") and "check at the plant" in reply
    assert "didn't work" not in reply and "nothing was done" not in reply
    assert _audit(session)[-1] | {"ts": ""} == {
        "ts": "", "kind": "result", "tool": "emergency_stop", "arguments": {}, "ok": False,
        "outcome": "unconfirmed", "message": action["message"]}
    assert session.plant.latched  # it had happened after all


async def test_a_yes_said_in_time_counts_however_long_it_took_to_hear(
        session: Session) -> None:
    """Under load the recognizer may take seconds: the window is judged by when the yes
    was said, not when it was understood."""
    assert (await session.say("unlock the doors")).endswith("Are you sure?")
    said_at = session.clock.now + 7.0
    session.clock.advance(11.0)  # transcribed four seconds later
    dialogue = session.assistant.dialogue
    assert (await dialogue.hear("yes", said_at=said_at)).reply == "Doors unlocked."
    assert not session.vehicle.locked


async def test_a_yes_said_too_late_confirms_nothing(session: Session) -> None:
    assert (await session.say("unlock the doors")).endswith("Are you sure?")
    said_at = session.clock.now + 9.0
    session.clock.advance(9.5)
    reply = (await session.assistant.dialogue.hear("yes", said_at=said_at)).reply
    assert reply.startswith("Cancelled") and session.vehicle.locked
