from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from assistant.errors import SkillLoadError
from assistant.plugins import discover_skills, load_skills
from assistant.skill_api import (
    NoArguments,
    Skill,
    SkillContext,
    SkillRuntime,
    Slot,
    SlotKind,
    ToolResult,
    tool,
)
from assistant.testing import SessionFactory


async def _done(_: NoArguments) -> ToolResult:
    return ToolResult(True, "done")


def _skill(name: str, tool_name: str, templates: Path) -> Skill:
    def create(_: SkillContext) -> SkillRuntime:
        return SkillRuntime(tools=(tool(tool_name, NoArguments, _done, description="x"),))

    return Skill(name=name, templates=templates, create=create)


def test_builtin_skills_are_found_through_entry_points() -> None:
    names = {skill.name for skill in discover_skills()}
    assert {"core", "vehicle", "factory"} <= names


def test_unknown_enabled_skill_lists_the_installed_ones() -> None:
    with pytest.raises(SkillLoadError, match=r"installed: .*vehicle"):
        discover_skills(["teleport"])


def test_duplicate_tool_names_both_skills(tmp_path: Path) -> None:
    templates = tmp_path / "t.yaml"
    templates.write_text("tools: {}\n", encoding="utf-8")
    with pytest.raises(SkillLoadError) as caught:
        load_skills([_skill("horn", "honk", templates), _skill("klaxon", "honk", templates)])
    assert "'horn'" in str(caught.value)
    assert "'klaxon'" in str(caught.value)
    assert caught.value.code == "skill-duplicate-tool"


async def test_a_third_party_skill_is_understood_like_a_builtin(
    tmp_path: Path, assistant_session: SessionFactory
) -> None:
    templates = tmp_path / "t.yaml"
    templates.write_text('tools:\n  honk:\n    - sentences: ["(honk|beep) [the horn]"]\n',
                         encoding="utf-8")
    async with assistant_session([_skill("horn", "honk", templates), "core"]) as session:
        understanding, loaded = session.assistant.understanding, session.assistant.skills
    assert understanding.decide("beep the horn").tool == "honk"
    assert loaded.owners["honk"] == "horn"


def _lights_alone() -> Any:
    from assistant.nlu.understand import Understanding
    from tests.third_party.lights import skill as lights

    loaded = load_skills([lights])
    return loaded, Understanding(loaded.catalog, loaded.sentences)


@pytest.mark.parametrize(("skill_module", "matched", "call"), [
    # one label and "no tool": the classifier is binary, one score for two labels
    ("tests.third_party", "beep the horn", ("honk", {})),
    ("tests.third_party.lights", "turn on the hall lights",
     ("set_shop_lights", {"zone": "hall", "lit": True})),
])
async def test_a_one_tool_skill_alone_parses_what_its_grammar_does_not_match(
        skill_module: str, matched: str, call: tuple[str, dict[str, Any]]) -> None:
    """Reported as ``IndexError: invalid index to scalar variable`` from the classifier."""
    import importlib

    from assistant.cli.parse import parse_lines
    from assistant.nlu.understand import Understanding

    loaded = load_skills([importlib.import_module(skill_module).skill])
    understanding = Understanding(loaded.catalog, loaded.sentences)
    said = ["what's the weather like", "", "lights", "turn on", "zorp blah", "1 2 3", matched]
    out = io.StringIO()
    source = io.BytesIO("\n".join(said).encode() + b"\n")
    assert await asyncio.wait_for(parse_lines(understanding, source, out), 30) == len(said)
    decided = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [d["tool"] for d in decided] == [None] * 6 + [call[0]]
    assert decided[-1]["arguments"] == call[1]


async def test_an_unknown_configured_name_is_spoken_back_with_the_known_ones(
        tmp_path: Path) -> None:
    from assistant.dialogue import Dialogue
    from assistant.dispatch.audit import AuditLog
    from assistant.dispatch.dispatcher import Dispatcher
    from assistant.events import TurnEvents

    loaded, understanding = _lights_alone()
    audit = AuditLog(tmp_path / "audit.jsonl")
    events = TurnEvents(lambda _event: None)
    dispatcher = Dispatcher(loaded.catalog, audit, events, lambda: 0.0)
    dialogue = Dialogue(understanding, dispatcher, events, now_ms=lambda: 0.0)
    try:
        turn = await asyncio.wait_for(dialogue.hear("turn on the kitchen lights"), 5)
        assert turn.reply == "I don't know a zone called kitchen; I know hall, office and yard."
        turn = await asyncio.wait_for(dialogue.hear("switch the yard lights off"), 5)
        assert turn.reply == "The yard lights are off."
    finally:
        audit.close()


@pytest.mark.parametrize("said", ["turn on the porch light", "shut it all down",
                                  "start the car"])
def test_an_unknown_name_needs_a_template_of_the_tool_around_it(said: str) -> None:
    """Without lights installed, "turn on the porch light" names no zone: it is no request."""
    from assistant.nlu.understand import Understanding

    loaded = load_skills(discover_skills(["core", "factory"]))
    understanding = Understanding(loaded.catalog, loaded.sentences)
    assert understanding.decide(said).tool is None


def _zoned(name: str, list_name: str, exports: dict[str, dict[str, tuple[str, ...]]],
           templates: Path) -> Skill:
    """A skill whose one tool takes a zone from the list ``list_name``."""

    class ZoneArguments(BaseModel):
        zone: Annotated[str, Slot(kind=SlotKind.CONFIGURED, list_name=list_name,
                                  label="zone")]

    async def done(_: ZoneArguments) -> ToolResult:
        return ToolResult(True, "done")

    def create(_: SkillContext) -> SkillRuntime:
        return SkillRuntime(tools=(tool(f"{name}_zone", ZoneArguments, done,
                                        description="x"),), lists=exports)

    return Skill(name=name, templates=templates, create=create)


@pytest.fixture
def no_templates(tmp_path: Path) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text("tools: {}\n", encoding="utf-8")
    return path


def test_two_skills_with_the_same_list_name_keep_their_own(no_templates: Path) -> None:
    from tests.third_party.lights import skill as lights

    loaded = load_skills([lights, _zoned("garage", "zone", {"zone": {"bay": ("the bay",)}},
                                         no_templates)])
    assert set(loaded.catalog.lists) == {"shop_lights.zone", "garage.zone"}
    assert set(loaded.catalog.specs["set_shop_lights"]["zone"].values.values()) == \
        {"hall", "office", "yard"}
    assert set(loaded.catalog.specs["garage_zone"]["zone"].values.values()) == {"bay"}


def test_a_skill_shares_another_skills_list_by_its_qualified_name(no_templates: Path) -> None:
    from tests.third_party.lights import skill as lights

    loaded = load_skills([lights, _zoned("alarm", "shop_lights.zone", {}, no_templates)])
    assert set(loaded.catalog.specs["alarm_zone"]["zone"].values.values()) == \
        {"hall", "office", "yard"}


def test_a_list_two_skills_export_used_unqualified_is_an_error_naming_both(
        no_templates: Path) -> None:
    from tests.third_party.lights import skill as lights

    garage = _zoned("garage", "zone", {"zone": {"bay": ()}}, no_templates)
    alarm = _zoned("alarm", "zone", {}, no_templates)
    with pytest.raises(SkillLoadError) as caught:
        load_skills([lights, garage, alarm])
    assert caught.value.code == "skill-list-clash"
    assert "'garage'" in str(caught.value) and "'shop_lights'" in str(caught.value)
    assert "Slot(list_name='garage.zone')" in str(caught.value)


def test_another_skills_list_is_not_shared_unasked(no_templates: Path) -> None:
    from tests.third_party.lights import skill as lights

    with pytest.raises(SkillLoadError, match=r"write Slot\(list_name='shop_lights.zone'\)"):
        load_skills([lights, _zoned("alarm", "zone", {}, no_templates)])


@pytest.mark.parametrize("list_name", ["zones", "shop_lights.zones", ""])
def test_an_unknown_list_is_an_error_at_the_arguments_file_and_line(
        no_templates: Path, list_name: str) -> None:
    with pytest.raises(SkillLoadError) as caught:
        load_skills([_zoned("alarm", list_name, {"zone": {"hall": ()}}, no_templates)])
    assert caught.value.code == "skill-list-unknown"
    line = next(number for number, text in enumerate(
        Path(__file__).read_text(encoding="utf-8").splitlines(), start=1)
        if text.strip().startswith("zone: Annotated[str, Slot(kind=SlotKind.CONFIGURED"))
    assert str(caught.value).startswith(f"{__file__}:{line}: tool 'alarm_zone', argument 'zone'")


def test_the_builtins_and_a_third_party_skill_keep_their_lists(installed_horn: None) -> None:
    loaded = load_skills(discover_skills())
    assert {"factory.machines", "factory.conveyors", "factory.lines"} <= set(loaded.catalog.lists)
    assert "horn" in loaded.runtimes
    assert loaded.warnings == ()


def test_load_skills_picks_the_templates_of_the_configured_language(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "en.yaml").write_text('tools:\n  honk:\n    - sentences: ["honk"]\n',
                                    encoding="utf-8")
    (folder / "xx.yaml").write_text('language: xx\ntools:\n  honk:\n'
                                    '    - sentences: ["tröt"]\n', encoding="utf-8")
    horn = _skill("horn", "honk", folder)
    assert [s.text for s in load_skills([horn], language="xx").sentences] == ["tröt"]
    assert [s.text for s in load_skills([horn]).sentences] == ["honk"]
    loaded = load_skills([horn, *discover_skills(["core"])], language="xx")
    assert [s.text for s in loaded.sentences] == ["tröt"]
    [warning] = loaded.warnings
    assert (warning.skill, warning.code) == ("core", "language-missing")
    assert "no templates in 'xx' (it has en)" in str(warning)


def test_a_tool_without_sentences_is_a_load_warning(tmp_path: Path) -> None:
    templates = tmp_path / "t.yaml"
    templates.write_text("tools: {}\n", encoding="utf-8")
    [warning] = load_skills([_skill("horn", "honk", templates)]).warnings
    assert (warning.skill, warning.code) == ("horn", "tool-without-sentences")
    assert "'honk' has no sentences" in str(warning)
