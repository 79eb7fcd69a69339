"""The catalog (checking calls, safety, free words), the template matcher and the plainest
sentence of a template, on a small catalog of their own (not the built-in skills)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, Field

from assistant.dispatch.catalog import Catalog, format_number
from assistant.nlu.expand import canonical_sentence
from assistant.nlu.matcher import TemplateMatcher
from assistant.nlu.normalize import normalize
from assistant.nlu.templates import load_templates
from assistant.skill_api import NoArguments, Safety, Slot, SlotKind, ToolResult, tool

_PUMP = Slot(kind=SlotKind.CONFIGURED, list_name="pumps", label="pump")


class SetFlow(BaseModel):
    model_config = ConfigDict(frozen=True)
    pump: Annotated[str, _PUMP]
    litres: Annotated[float, Field(ge=0, le=40), Slot(label="flow", unit="litres",
                                                       aliases={40: ("full", "maximum")})]


class Note(BaseModel):
    model_config = ConfigDict(frozen=True)
    pump: Annotated[str, _PUMP]
    text: Annotated[str, Field(min_length=1, examples=["the seal leaks"]),
                    Slot(kind=SlotKind.TEXT, label="note")]


async def _done(_arguments: BaseModel) -> ToolResult:
    return ToolResult(True, "Done.")


TEMPLATES = """\
tools:
  set_flow:
    - sentences:
        - "set [the] {pump} [flow] to {litres} [litres]"
        - "(run|turn) {pump} [up] to {litres}"
  halt_pumps:
    - sentences:
        - "(halt|stop) (all|every) (pump|pumps)"
  note_pump:
    - sentences:
        - "note for {pump} [that] {text}"
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    tools = [tool("set_flow", SetFlow, _done, description="Set a pump's flow",
                  safety_for=lambda a: Safety.IMMEDIATE if a.litres == 0 else Safety.PLAIN),
             tool("halt_pumps", NoArguments, _done, description="Stop every pump",
                  safety=Safety.IMMEDIATE),
             tool("note_pump", Note, _done, description="Note something about a pump")]
    return Catalog({t.name: t for t in tools},
                   {"pumps": {"pump_a": ("pump a", "the first pump"), "pump_b": ("pump b",)}})


@pytest.fixture(scope="module")
def matcher(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> TemplateMatcher:
    path = Path(tmp_path_factory.mktemp("t")) / "templates.yaml"
    path.write_text(TEMPLATES, encoding="utf-8")
    tools = {name: frozenset(catalog.specs[name]) for name in catalog.tools}
    return TemplateMatcher(load_templates(path, tools), catalog)


def test_a_valid_call_is_checked_into_its_model(catalog: Catalog) -> None:
    checked = catalog.check("set_flow", {"pump": "pump_a", "litres": 12.5})
    assert checked.model is not None and checked.error is None and not checked.missing
    assert checked.arguments == {"pump": "pump_a", "litres": 12.5}


def test_out_of_range_is_refused_with_what_is_allowed_never_clamped(catalog: Catalog) -> None:
    checked = catalog.check("set_flow", {"pump": "pump_a", "litres": 55})
    assert checked.model is None
    assert checked.error is not None and "0" in checked.error and "40" in checked.error


def test_an_unknown_name_is_named_with_the_ones_known(catalog: Catalog) -> None:
    checked = catalog.check("set_flow", {"pump": "pump_z", "litres": 5})
    assert checked.model is None and checked.error is not None
    assert "pump_z" in checked.error and "pump a" in checked.error and "pump b" in checked.error


def test_missing_and_unknown_arguments(catalog: Catalog) -> None:
    assert catalog.check("set_flow", {"pump": "pump_b"}).missing == ("litres",)
    unknown = catalog.check("halt_pumps", {"speed": 3})
    assert unknown.model is None and unknown.error == "halt_pumps takes no speed."
    with pytest.raises(KeyError, match="known tools: halt_pumps, note_pump, set_flow"):
        catalog.tool("fly")


def test_safety_follows_the_arguments_and_free_words_are_named(catalog: Catalog) -> None:
    assert catalog.safety("set_flow", {"pump": "pump_a", "litres": 0}) == Safety.IMMEDIATE
    assert catalog.safety("set_flow", {"pump": "pump_a", "litres": 9}) == Safety.PLAIN
    assert catalog.safety("halt_pumps", {}) == Safety.IMMEDIATE
    assert catalog.free_words("note_pump", {"pump": "pump_a", "text": "x"}) == ["text"]
    assert catalog.free_words("set_flow", {"pump": "pump_a", "litres": 1}) == []
    assert (format_number(21.0), format_number(18.5)) == ("21", "18.5")


@pytest.mark.parametrize(("said", "tool_name", "arguments"), [
    ("set the pump a flow to twelve litres", "set_flow", {"pump": "pump_a", "litres": 12}),
    ("run the first pump up to 7", "set_flow", {"pump": "pump_a", "litres": 7}),
    ("turn pump b to full", "set_flow", {"pump": "pump_b", "litres": 40}),
    ("halt all pumps", "halt_pumps", {}),
    ("note for pump b that the seal leaks", "note_pump", {"pump": "pump_b",
                                                           "text": "the seal leaks"}),
])
def test_templates_match_with_number_words_aliases_and_names(
        matcher: TemplateMatcher, said: str, tool_name: str, arguments: dict[str, object]
) -> None:
    matched = matcher.match(normalize(said))
    assert matched is not None and matched.tool == tool_name
    assert {k: v for k, v in matched.arguments.items() if v is not None} == arguments


def test_a_misheard_word_is_matched_fuzzily_and_marked(matcher: TemplateMatcher) -> None:
    matched = matcher.match(normalize("hault every pump"))
    assert matched is not None and matched.tool == "halt_pumps" and matched.fuzzy
    assert not matcher.is_sentence("hault every pump")
    assert matcher.is_sentence("halt every pump")


def test_talk_and_a_name_that_names_nothing(matcher: TemplateMatcher) -> None:
    assert matcher.match(normalize("what a lovely day")) is None
    assert matcher.match(normalize("")) is None
    named = matcher.match(normalize("set pump q to 5"))
    assert named is not None and (named.tool, named.unknown_name) == ("set_flow", True)
    assert "set pump a to 5" in matcher.renamings(normalize("set pump q to 5"))


def test_the_plainest_sentence_of_a_template(catalog: Catalog,
                                             tmp_path: Path) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text(TEMPLATES, encoding="utf-8")
    tools = {name: frozenset(catalog.specs[name]) for name in catalog.tools}
    sentences = {s.tool: s for s in reversed(load_templates(path, tools))}
    assert canonical_sentence(sentences["set_flow"], catalog.specs["set_flow"]) == \
        "set the pump a flow to 20 litres"
    assert canonical_sentence(sentences["halt_pumps"], catalog.specs["halt_pumps"]) == \
        "halt all pump"
    assert canonical_sentence(sentences["note_pump"], catalog.specs["note_pump"]) == \
        "note for pump a that the seal leaks"
