"""Words two skills' sentences fit equally: the dialogue asks which one is meant, and the
answer picks it (or nothing runs)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from assistant.dialogue import Dialogue
from assistant.dispatch.audit import AuditLog, read_records
from assistant.dispatch.dispatcher import Dispatcher
from assistant.events import Event
from assistant.nlu.understand import Understanding
from assistant.plugins import discover_skills, load_skills
from tests.third_party import shop_lights

AWAIT_LIMIT = 5.0


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    loaded = load_skills([*discover_skills(["vehicle"]), shop_lights.skill])
    return Understanding(loaded.catalog, loaded.sentences)


def _dialogue(understanding: Understanding, audit: Path, events: list[Event]) -> Dialogue:
    dispatcher = Dispatcher(understanding.catalog, AuditLog(audit), events.append, lambda: 0.0)
    return Dialogue(understanding, dispatcher, events.append, now_ms=lambda: 0.0)


async def _say(dialogue: Dialogue, text: str) -> str:
    return (await asyncio.wait_for(dialogue.hear(text), AWAIT_LIMIT)).reply


async def test_the_dialogue_asks_which_and_the_answer_picks(
        understanding: Understanding, tmp_path: Path) -> None:
    events: list[Event] = []
    dialogue = _dialogue(understanding, tmp_path / "audit.jsonl", events)
    question = await _say(dialogue, "turn on the lights")
    assert question.endswith("?") and " or " in question
    assert not [e for e in events if e.to_json()["event"] == "action"]
    reply = await _say(dialogue, "the shop ones")
    assert reply == "Shop lights on."
    actions = [e.to_json() for e in events if e.to_json()["event"] == "action"]
    assert [(a["tool"], a["arguments"]) for a in actions] == [("set_shop_lights",
                                                                {"lit": True})]
    asked = [r for r in read_records(tmp_path / "audit.jsonl").records
             if r.get("kind") == "choose_asked"]
    assert len(asked) == 1


async def test_an_unclear_answer_runs_nothing(understanding: Understanding,
                                              tmp_path: Path) -> None:
    events: list[Event] = []
    dialogue = _dialogue(understanding, tmp_path / "audit.jsonl", events)
    await _say(dialogue, "turn on the lights")
    await _say(dialogue, "whatever")
    assert not [e for e in events if e.to_json()["event"] == "action"]
