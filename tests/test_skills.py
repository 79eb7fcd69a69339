from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import SkillLoadError
from assistant.plugins import discover_skills, load_skills
from assistant.skill_api import NoArguments, Skill, SkillContext, SkillRuntime, ToolResult, tool
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
