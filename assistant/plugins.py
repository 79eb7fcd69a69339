"""Finding skills through entry points and building them into one catalog.

Built-in skills are published in the same ``assistant.skills`` entry-point group as
third-party ones, so they are found, checked and loaded the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from assistant.dispatch.catalog import Catalog
from assistant.errors import SkillLoadError
from assistant.nlu.templates import TemplateSentence, load_templates
from assistant.skill_api import Skill, SkillContext, SkillRuntime

__all__ = ["ENTRY_POINT_GROUP", "LoadedSkills", "close_backends", "discover_skills",
           "installed_skill_names", "installed_skills", "load_skills"]

ENTRY_POINT_GROUP = "assistant.skills"


def installed_skill_names(group: str = ENTRY_POINT_GROUP) -> list[str]:
    """The names of the skills published in ``group``, without importing any of them."""
    return sorted({point.name for point in entry_points(group=group)})


def installed_skills(names: Iterable[str], group: str = ENTRY_POINT_GROUP) -> list[Skill]:
    """The skills among ``names`` that are installed; unlike :func:`discover_skills`, the
    others are left out, not refused."""
    return discover_skills(sorted(set(names) & set(installed_skill_names(group))), group)


def discover_skills(
    enabled: Collection[str] | None = None, group: str = ENTRY_POINT_GROUP
) -> list[Skill]:
    """The skills published in ``group``; ``enabled`` narrows them by name."""
    found: dict[str, Skill] = {}
    points = list(entry_points(group=group))
    if enabled is not None:
        unknown = sorted(set(enabled) - {point.name for point in points})
        if unknown:
            installed = ", ".join(sorted(point.name for point in points)) or "none"
            raise SkillLoadError("skill-not-found", f"skills not installed: "
                                 f"{', '.join(unknown)}; installed: {installed}")
    for point in points:
        if enabled is not None and point.name not in enabled:
            continue
        try:
            skill = point.load()
        except Exception as err:  # a broken third-party package must name itself
            raise SkillLoadError(
                "skill-import-failed", f"skill {point.name!r} ({point.value}) failed to import: "
                f"{type(err).__name__}: {err}") from err
        if not isinstance(skill, Skill):
            raise SkillLoadError("skill-invalid", f"entry point {point.name!r} ({point.value}) "
                                 "is not an assistant.skill_api.Skill")
        found[point.name] = skill
    return list(found.values())


@dataclass(frozen=True)
class LoadedSkills:
    """Every tool in one catalog, every template sentence, each skill's runtime."""

    catalog: Catalog
    sentences: list[TemplateSentence]
    runtimes: Mapping[str, SkillRuntime]
    owners: Mapping[str, str]


def load_skills(
    skills: Iterable[Skill],
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    notify: Callable[[str], None] = lambda _text: None,
) -> LoadedSkills:
    """Build each skill, refuse duplicate tool names, load and check every template."""
    configs = configs or {}
    runtimes: dict[str, SkillRuntime] = {}
    owners: dict[str, str] = {}
    tools = {}
    lists: dict[str, Mapping[str, tuple[str, ...]]] = {}
    built: list[tuple[Skill, SkillRuntime]] = []
    for skill in skills:
        if skill.name in runtimes:
            raise SkillLoadError("skill-duplicate", f"two skills are named {skill.name!r}")
        runtime = skill.create(SkillContext(config=configs.get(skill.name, {}), notify=notify))
        runtimes[skill.name] = runtime
        for item in runtime.tools:
            if item.name in owners:
                raise SkillLoadError(
                    "skill-duplicate-tool",
                    f"tool {item.name!r} is declared by both skill {owners[item.name]!r} and "
                    f"skill {skill.name!r}; disable one of them or rename the tool")
            owners[item.name] = skill.name
            tools[item.name] = item
        lists.update(runtime.lists)
        built.append((skill, runtime))
    catalog = Catalog(tools, lists)
    sentences: list[TemplateSentence] = []
    for skill, runtime in built:
        arguments = {t.name: frozenset(t.arguments.model_fields) for t in runtime.tools}
        sentences += load_templates(skill.templates, arguments)
    return LoadedSkills(catalog, sentences, runtimes, owners)


async def close_backends(runtimes: Mapping[str, SkillRuntime]) -> None:
    """Close every skill back end that has connections to close (buses)."""
    for runtime in runtimes.values():
        close = getattr(runtime.backend, "close", None)
        if close is not None:
            await close()
