"""Sentences two skills share: found by :func:`find_overlaps`, settled by the matcher with
a skill's ``priority:`` or a block's ``requires:``, and otherwise no single call (the
understanding offers the readings to choose from). The vehicle's headlights against the
shop-lights test skill (``tests/third_party/shop_lights``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from assistant.dispatch.catalog import Catalog
from assistant.nlu.lint import Severity
from assistant.nlu.matcher import TemplateMatcher
from assistant.nlu.normalize import normalize
from assistant.nlu.overlap import OverlapKind, find_overlaps, overlap_problems
from assistant.nlu.templates import load_templates
from assistant.nlu.understand import Route, Understanding
from assistant.plugins import LoadedSkills, discover_skills, load_skills
from assistant.skill_api import NoArguments, Safety, Skill, ToolResult, tool
from tests.third_party import shop_lights


def _loaded(variant: Skill) -> LoadedSkills:
    return load_skills([*discover_skills(["vehicle"]), variant])


@pytest.fixture(scope="module")
def tied() -> LoadedSkills:
    return _loaded(shop_lights.skill)


def _matcher(loaded: LoadedSkills) -> TemplateMatcher:
    return TemplateMatcher(loaded.sentences, loaded.catalog)


def test_equal_matches_of_two_skills_are_rivals(tied: LoadedSkills) -> None:
    matched = _matcher(tied).match(normalize("turn on the lights"))
    assert matched is not None
    assert {matched.tool, *(r.tool for r in matched.rivals)} == {"set_headlights",
                                                                 "set_shop_lights"}


def test_the_more_specific_template_still_wins_alone(tied: LoadedSkills) -> None:
    matched = _matcher(tied).match(normalize("turn on the high beams"))
    assert matched is not None and matched.tool == "set_headlights" and not matched.rivals
    matched = _matcher(tied).match(normalize("switch the shop lights on"))
    assert matched is not None and matched.tool == "set_shop_lights" and not matched.rivals


def test_the_higher_priority_wins_an_equal_match() -> None:
    matcher = _matcher(_loaded(shop_lights.prioritized))
    matched = matcher.match(normalize("turn on the lights"))
    assert matched is not None
    assert (matched.tool, matched.arguments, matched.rivals) == (
        "set_shop_lights", {"lit": True}, ())
    assert [c.tool for c in matcher.candidates(normalize("turn on the lights"))] == [
        "set_shop_lights", "set_headlights"]


def test_a_block_matches_only_when_a_required_word_is_said() -> None:
    matcher = _matcher(_loaded(shop_lights.worded))
    plain = matcher.match(normalize("turn on the lights"))
    shop = matcher.match(normalize("turn on the shop lights"))
    assert plain is not None and (plain.tool, plain.rivals) == ("set_headlights", ())
    assert shop is not None and shop.tool == "set_shop_lights"


def test_no_single_call_is_made_of_a_tie_but_the_choices_are_given(
        tied: LoadedSkills) -> None:
    understanding = Understanding(tied.catalog, tied.sentences)
    decision = understanding.decide("turn on the lights")
    assert (decision.tool, decision.route) == (None, Route.NONE)
    assert {(c.tool, str(c.arguments)) for c in decision.choices} == {
        ("set_headlights", "{'mode': 'low'}"), ("set_shop_lights", "{'lit': True}")}
    assert "equally" in str(decision.error)
    assert decision.to_json()["choices"]


def test_of_two_readings_the_one_whose_values_are_allowed_is_taken() -> None:
    """ "heat front right to 28" fits the seat heater and the temperature alike; only the
    temperature goes to 28."""
    loaded = load_skills(discover_skills(["vehicle"]))
    understanding = Understanding(loaded.catalog, loaded.sentences)
    decision = understanding.decide("heat front right to 28")
    assert decision.tool == "set_temperature" and not decision.choices


def test_find_overlaps_reports_the_tie_with_examples_and_lines(tied: LoadedSkills) -> None:
    overlaps = find_overlaps(tied.sentences, tied.catalog, tied.owners, skill="shop_lights")
    tie = next(o for o in overlaps if o.kind == OverlapKind.TIE)
    assert (tie.skill, tie.tool, tie.other_skill, tie.other_tool) == (
        "shop_lights", "set_shop_lights", "vehicle", "set_headlights")
    assert tie.severity == Severity.ERROR
    example = next(e for e in tie.examples if e.text == "turn on the lights")
    assert example.source.endswith("shop_lights/templates.yaml:4")
    assert example.other_source.endswith("vehicle/templates.yaml:303")
    problem = overlap_problems([tie], tied.sentences)[0]
    assert "'requires: [shop]'" in problem.message and "'priority:'" in problem.message


@pytest.mark.parametrize(("variant", "kind"), [(shop_lights.prioritized, OverlapKind.PRIORITY),
                                               (shop_lights.worded, OverlapKind.REQUIRES)])
def test_resolved_overlaps_are_notes(variant: Skill, kind: OverlapKind) -> None:
    loaded = _loaded(variant)
    overlaps = find_overlaps(loaded.sentences, loaded.catalog, loaded.owners,
                             skill="shop_lights")
    assert overlaps and {o.kind for o in overlaps} == {kind}
    assert all(o.severity == Severity.NOTE for o in overlaps)
    assert any(e.text == "turn on the lights" for o in overlaps for e in o.examples)


def test_a_skill_alone_has_no_overlap() -> None:
    loaded = load_skills([shop_lights.skill])
    assert find_overlaps(loaded.sentences, loaded.catalog, loaded.owners) == []


def test_a_stop_among_equal_readings_is_decided_at_once(tmp_path: Path) -> None:
    async def done(_arguments: BaseModel) -> ToolResult:
        return ToolResult(True, "Done.")

    catalog = Catalog({t.name: t for t in (
        tool("halt_line", NoArguments, done, description="Halt", safety=Safety.IMMEDIATE),
        tool("pause_music", NoArguments, done, description="Pause"),
    )}, {})
    path = tmp_path / "templates.yaml"
    path.write_text('tools:\n  pause_music: [{sentences: ["stop it all"]}]\n'
                    '  halt_line: [{sentences: ["stop it all"]}]\n', encoding="utf-8")
    sentences = load_templates(path, {"halt_line": frozenset(), "pause_music": frozenset()})
    decision = Understanding(catalog, sentences).decide("stop it all")
    assert (decision.tool, decision.route) == ("halt_line", Route.GRAMMAR)
