"""Finding skills through entry points and building them into one catalog.

Built-in skills are published in the same ``assistant.skills`` entry-point group as
third-party ones, so they are found, checked and loaded the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.config import Problem, validation_problems
from assistant.dispatch.catalog import Catalog, list_key
from assistant.errors import AssistantError, SkillLoadError
from assistant.nlu.templates import (
    DEFAULT_LANGUAGE,
    TemplateSentence,
    TemplateWarning,
    read_templates,
)
from assistant.skill_api import Skill, SkillContext, SkillRuntime, SlotKind

__all__ = ["ENTRY_POINT_GROUP", "LoadedSkills", "close_backends",
           "discover_skills", "installed_skill_names", "installed_skills", "load_skills",
           "settings_problems", "skill_settings", "start_backends"]

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


def settings_problems(skill: Skill, raw: Mapping[str, Any]) -> list[Problem]:
    """Every problem of ``raw`` against the skill's settings model, keys in full
    (``skills.shop_lights.port``); a skill without a settings model checks its table itself
    (``check_config``)."""
    try:
        skill_settings(skill, raw)
    except _InvalidSettings as err:
        return err.problems
    return []


class _InvalidSettings(SkillLoadError):
    def __init__(self, skill: str, problems: list[Problem]) -> None:
        super().__init__("skill-settings-invalid", f"the {skill} skill's settings have "
                         f"{len(problems)} problem(s): " + "; ".join(str(p) for p in problems)
                         + ". Run 'assistant config check' for details.")
        self.problems = problems


def skill_settings(skill: Skill, raw: Mapping[str, Any]) -> tuple[BaseModel | None,
                                                                    dict[str, Any]]:
    """The skill's validated settings and the same as plain values (what its hooks get);
    a :class:`SkillLoadError` lists every problem with its key. A skill without a settings
    model gets its table as written."""
    if skill.settings is None:
        return None, dict(raw)
    try:
        settings = skill.settings.model_validate(raw)
    except ValidationError as err:
        raise _InvalidSettings(skill.name, validation_problems(
            err, skill.settings, ("skills", skill.name))) from err
    return settings, settings.model_dump(mode="json")


@dataclass(frozen=True)
class LoadedSkills:
    """Every tool in one catalog, every template sentence, each skill's runtime.

    ``warnings`` are what loads but is likely a mistake (a tool no sentence calls, a skill
    without templates in the configured language), for ``assistant skills check``.
    The catalog's lists are keyed by qualified name (``factory.machines``)."""

    catalog: Catalog
    sentences: list[TemplateSentence]
    runtimes: Mapping[str, SkillRuntime]
    owners: Mapping[str, str]
    warnings: tuple[TemplateWarning, ...] = ()


def load_skills(
    skills: Iterable[Skill],
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    notify: Callable[[str], None] = lambda _text: None,
    *,
    connect: bool = False,
    language: str = DEFAULT_LANGUAGE,
) -> LoadedSkills:
    """Build each skill on its validated settings (``configs``: each skill's table by skill
    name), refuse duplicate tool names, load and check every template in ``language``.
    Without ``connect`` the skills open no bus or device (see :class:`SkillContext`). A
    skill's lists are its own (``skill.list``); see :class:`Catalog` for how slots name
    them."""
    configs = configs or {}
    runtimes: dict[str, SkillRuntime] = {}
    owners: dict[str, str] = {}
    tools = {}
    lists: dict[str, Mapping[str, tuple[str, ...]]] = {}
    built: list[tuple[Skill, SkillRuntime]] = []
    for skill in skills:
        if skill.name in runtimes:
            raise SkillLoadError("skill-duplicate", f"two skills are named {skill.name!r}")
        settings, plain = skill_settings(skill, configs.get(skill.name, {}))
        runtime = skill.create(SkillContext(config=plain, notify=notify, settings=settings,
                                            connect=connect))
        runtimes[skill.name] = runtime
        for item in runtime.tools:
            if item.name in owners:
                raise SkillLoadError(
                    "skill-duplicate-tool",
                    f"tool {item.name!r} is declared by both skill {owners[item.name]!r} and "
                    f"skill {skill.name!r}; disable one of them or rename the tool")
            owners[item.name] = skill.name
            tools[item.name] = item
        for list_name, ids in runtime.lists.items():
            if not list_name.isidentifier():
                raise SkillLoadError("skill-list-invalid", f"skill {skill.name!r} exports a "
                                     f"list named {list_name!r}; a list name is one word "
                                     "(letters, digits, _)")
            lists[list_key(skill.name, list_name)] = ids
        built.append((skill, runtime))
    catalog = Catalog(tools, lists, owners)
    sentences: list[TemplateSentence] = []
    warnings: list[TemplateWarning] = []
    for skill, runtime in built:
        arguments = {t.name: frozenset(t.arguments.model_fields) for t in runtime.tools}
        booleans = {t.name: frozenset(name for name, spec in catalog.specs[t.name].items()
                                      if spec.kind == SlotKind.BOOLEAN)
                    for t in runtime.tools}
        templates = read_templates(skill.templates, arguments, language=language,
                                   boolean_arguments=booleans)
        sentences += templates.sentences
        warnings += [dataclasses.replace(w, skill=skill.name) for w in templates.warnings]
    return LoadedSkills(catalog, sentences, runtimes, owners, tuple(warnings))


async def start_backends(runtimes: Mapping[str, SkillRuntime]) -> None:
    """Start every skill back end that has a ``start`` (see :class:`Backend`); a third-party
    back end's failure names its skill."""
    for name, runtime in runtimes.items():
        start = getattr(runtime.backend, "start", None)
        if start is None:
            continue
        try:
            await start()
        except AssistantError:
            raise
        except Exception as err:
            raise SkillLoadError("skill-start-failed", f"skill {name!r} failed to start its "
                                 f"back end: {type(err).__name__}: {err}") from err


async def close_backends(runtimes: Mapping[str, SkillRuntime]) -> None:
    """Close every skill back end that has an ``aclose`` (see :class:`Backend`); one that
    fails to close does not keep the others open."""
    failures: list[BaseException] = []
    for runtime in runtimes.values():
        close = getattr(runtime.backend, "aclose", None)
        if close is None:
            continue
        try:
            await close()
        except Exception as err:  # every back end gets its chance to close
            failures.append(err)
    if failures:
        raise failures[0]
