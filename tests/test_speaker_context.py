"""Zone-aware requests: a dialogue that knows where it is spoken (a satellite's area and
zone) fills what the request leaves out, or says as "my", from there; a value the request
names is kept; the audit log records the satellite."""

from __future__ import annotations

import json

import pytest

from assistant.dialogue import Dialogue
from assistant.dispatch.dispatcher import Dispatcher
from assistant.dispatch.speaker import SpeakerContext
from assistant.events import TurnEvents
from tests.conftest import Session


def _dialogue(session: Session, zone: str, name: str = "satellite") -> Dialogue:
    assistant = session.assistant
    speaker = SpeakerContext(satellite=name, area="car", zone=zone)
    events = TurnEvents(session.events.append)
    dispatcher = Dispatcher(assistant.dispatcher.catalog, assistant.audit, events,
                            lambda: 0.0, speaker=speaker)
    return Dialogue(assistant.understanding, dispatcher, events, now_ms=lambda: 0.0,
                    speaker=speaker)


async def test_cold_in_the_rear_warms_the_rear_only(session: Session) -> None:
    before = dict(session.vehicle.cabin)
    await _dialogue(session, "rear").hear("I'm cold")
    changed = {str(z) for z, c in session.vehicle.cabin.items() if c != before[z]}
    assert changed == {"rear"}


async def test_my_window_is_the_speakers_window(session: Session) -> None:
    reply = (await _dialogue(session, "passenger").hear("open my window")).reply
    assert reply == "Passenger window open."
    assert {str(w): p for w, p in session.vehicle.windows.items() if p} == {"passenger": 100}


async def test_a_named_zone_is_still_obeyed(session: Session) -> None:
    await _dialogue(session, "passenger").hear("open the driver's window")
    assert {str(w): p for w, p in session.vehicle.windows.items() if p} == {"driver": 100}


async def test_my_window_where_no_window_is_the_speakers_asks(session: Session) -> None:
    """"rear" names no single window: "my window" there is asked about, never the
    driver's (the single-box meaning of "my")."""
    reply = (await _dialogue(session, "rear").hear("open my window")).reply
    assert reply == "Which window?"
    assert not any(session.vehicle.windows.values())


async def test_this_machine_at_a_station_is_its_machine(session: Session) -> None:
    session.plant.running["press_1"] = session.plant.running["press_2"] = True
    reply = (await _dialogue(session, "press 1").hear("stop this machine")).reply
    assert reply == "Press one stopped."
    assert session.plant.running == {**session.plant.running, "press_1": False,
                                     "press_2": True}


async def test_this_machine_without_a_station_asks_which(session: Session) -> None:
    assert await session.say("stop this machine") == "Which machine?"


@pytest.mark.parametrize("zone", ["", "galley"])
async def test_a_zone_that_names_nothing_changes_nothing(session: Session, zone: str) -> None:
    before = dict(session.vehicle.cabin)
    await _dialogue(session, zone).hear("I'm cold")
    assert all(c > before[z] for z, c in session.vehicle.cabin.items())


async def test_the_audit_log_says_which_satellite_and_area(session: Session) -> None:
    await _dialogue(session, "rear", name="rear-left").hear("I'm cold")
    records = [json.loads(line) for line in
               session.audit_path.read_text(encoding="utf-8").splitlines()]
    assert records and all(r["satellite"] == "rear-left" and r["area"] == "car"
                           and r["zone"] == "rear" for r in records)
