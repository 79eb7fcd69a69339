"""An utterance is analysed once, whoever asks about it, and never from a stale catalog."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from assistant.nlu.classifier import IntentClassifier
from assistant.nlu.matcher import TemplateMatch
from assistant.nlu.normalize import Normalized
from assistant.nlu.understand import Understanding
from assistant.skill_api import Safety
from assistant.stt import Transcript
from assistant.wiring import build_understanding
from tests.conftest import Session


def _counting_matches(monkeypatch: pytest.MonkeyPatch, understanding: Understanding
                      ) -> list[str]:
    """The utterances the template matcher is asked about, in its digits form."""
    matched: list[str] = []
    real: Callable[[Normalized], TemplateMatch | None] = understanding.matcher.match

    def counted(utterance: Normalized) -> TemplateMatch | None:
        matched.append(utterance.digits)
        return real(utterance)

    monkeypatch.setattr(understanding.matcher, "match", counted)
    return matched


async def test_a_heard_command_is_matched_once_from_the_recognizer_to_its_dispatch(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    understanding = session.assistant.understanding
    matched = _counting_matches(monkeypatch, understanding)
    text = "Lock the doors."
    # what the recognizer, the stop spotter and the pipeline at a pause ask about it
    assert understanding.fully_understands(text)
    assert not understanding.acts_at_once(text)
    assert understanding.finished(text)
    assert understanding.doubt_matters(text)
    assert await session.say(text, Transcript(text, engine="test")) == "Doors locked."
    assert [a["tool"] for a in session.of("action")] == ["lock_doors"]
    assert matched.count("lock the doors") == 1


async def test_a_typed_command_said_again_is_not_matched_again(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    matched = _counting_matches(monkeypatch, session.assistant.understanding)
    for _ in range(2):
        assert await session.say("lock the doors") == "Doors locked."
    assert matched.count("lock the doors") == 1


def test_an_analysis_is_shared_and_unchanged(understanding: Understanding) -> None:
    analysis = understanding.analyze("set the temperature to twenty one degrees")
    assert understanding.analyze("set the temperature to twenty one degrees") is analysis
    assert analysis.normalized.digits == "set the temperature to 21 degrees"
    assert analysis.act is None and analysis.settled
    assert analysis.call == ("set_temperature", {"celsius": 21, "zone": "all"})
    assert analysis.safety == Safety.PLAIN
    with pytest.raises(TypeError):
        analysis.call[1]["celsius"] = 30  # type: ignore[index]
    decision = understanding.decide("set the temperature to twenty one degrees")
    decision.arguments["celsius"] = 30
    assert understanding.decide("set the temperature to twenty one degrees"
                                ).arguments["celsius"] == 21


def test_a_tool_installed_anew_is_not_judged_from_an_old_analysis(
        classifier: IntentClassifier) -> None:
    understanding = build_understanding(classifier=classifier)[1]
    assert not understanding.acts_at_once("lock the doors")
    tools = understanding.catalog.tools
    tools["lock_doors"] = dataclasses.replace(tools["lock_doors"], safety=Safety.IMMEDIATE)
    assert understanding.acts_at_once("lock the doors")


@pytest.mark.parametrize(("text", "settled", "tool"), [
    ("stop", True, None), ("yes", True, None), ("", True, None), ("{json}", True, None),
    ("play some jazz and navigate home", True, None),
    ("roll up the windows, it's raining", True, "set_window"),
    ("start press 9", False, None)])
def test_the_templates_settle_what_they_decide_alone(
        understanding: Understanding, text: str, settled: bool, tool: str | None) -> None:
    """A dialogue word, nothing said, markup and two requests in one are no call; a name
    that names nothing here is left to the classifier."""
    analysis = understanding.analyze(text)
    assert analysis.settled is settled
    assert (analysis.grammar or (None,))[0] == tool
