"""``assistant skills list | check | try``: what is installed, what is wrong with it, and
what the understanding makes of one utterance. Nothing is executed, no bus is opened."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any, TextIO

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from assistant.cli.output import json_line
from assistant.config import AssistantConfig
from assistant.dispatch.catalog import Catalog
from assistant.errors import SkillLoadError
from assistant.nlu.lint import Problem, Severity, lint_skill
from assistant.nlu.overlap import find_overlaps, overlap_problems
from assistant.nlu.slm import TierSettings, gated_candidates
from assistant.nlu.understand import Decision, Understanding
from assistant.plugins import ENTRY_POINT_GROUP, LoadedSkills, discover_skills, load_skills
from assistant.skill_api import Skill, Tool

__all__ = ["check_skills", "list_skills", "try_utterance"]


def _loaded(config: AssistantConfig, names: list[str] | None = None) -> LoadedSkills:
    # Nothing runs: the skills get their names and lists, not the buses.
    return load_skills(discover_skills(names), config.skill_configs(),
                       language=config.skills.language)


def list_skills(config: AssistantConfig, out: TextIO, *, as_json: bool) -> int:
    """Each installed skill: its package and version, tools and settings."""
    skills = {skill.name: skill for skill in discover_skills(None)}
    loaded = _loaded(config)
    packages = {point.name: point.dist for point in entry_points(group=ENTRY_POINT_GROUP)}
    for name in sorted(skills):
        dist = packages.get(name)
        described = {
            "name": name,
            "package": dist.name if dist is not None else None,
            "version": dist.version if dist is not None else None,
            "templates": str(skills[name].templates),
            "tools": [_tool(item) for item in loaded.runtimes[name].tools],
            "settings": _settings(skills[name]),
        }
        if as_json:
            out.write(json_line(described))
        else:
            _print_skill(described, out)
    return 0


def _tool(item: Tool) -> dict[str, str]:
    safety = str(item.safety) + (" (by its arguments)" if item.safety_for is not None else "")
    return {"name": item.name, "safety": safety,
            "description": item.description.strip().splitlines()[0] if item.description
            else ""}


def _settings(skill: Skill) -> list[dict[str, Any]]:
    model: type[BaseModel] | None = skill.settings
    if model is None:
        return []
    fields = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        kind = getattr(annotation, "__name__", None) if isinstance(annotation, type) \
            else None
        default: Any = None if info.default is PydanticUndefined else info.default
        fields.append({"name": name, "type": kind or str(annotation).replace("typing.", ""),
                       "default": "(required)" if info.is_required() else _plain(default),
                       "description": info.description or ""})
    return fields


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _print_skill(described: Mapping[str, Any], out: TextIO) -> None:
    package = described["package"] or "no package"
    version = f" {described['version']}" if described["version"] else ""
    out.write(f"{described['name']}  ({package}{version})\n  tools:\n")
    for item in described["tools"]:
        out.write(f"    {item['name']:<24} {item['safety']:<10} {item['description']}\n")
    settings = described["settings"]
    out.write("  settings:" + ("\n" if settings else " none\n"))
    for field in settings:
        about = f"  {field['description']}" if field["description"] else ""
        default = " (required)" if field["default"] == "(required)" \
            else f" = {field['default']!r}"
        out.write(f"    {field['name']}: {field['type']}{default}{about}\n")


def check_skills(config: AssistantConfig, out: TextIO, name: str | None = None, *,
                 as_json: bool = False) -> int:
    """Lint each skill (or ``name``) and find overlaps with every installed skill; exit 1
    when there is an error, warnings do not fail."""
    loaded = _loaded(config)
    if name is not None and name not in loaded.runtimes:
        installed = ", ".join(sorted(loaded.runtimes))
        raise SkillLoadError("skill-not-found", f"no skill {name!r} is installed; "
                             f"installed: {installed}")
    problems: list[Problem] = []
    for skill in sorted(loaded.runtimes):
        if name is not None and skill != name:
            continue
        tools = [item.name for item in loaded.runtimes[skill].tools]
        problems += lint_skill(skill, tools, [s for s in loaded.sentences if s.tool in tools],
                               loaded.catalog)
    overlaps = find_overlaps(loaded.sentences, loaded.catalog, loaded.owners, skill=name)
    problems += overlap_problems(overlaps, loaded.sentences)
    for problem in problems:
        if as_json:
            out.write(json_line(problem.to_json()))
        else:
            where = f"{problem.source}: " if problem.source else ""
            out.write(f"{where}{problem.severity}: {problem.skill}.{problem.tool}: "
                      f"{problem.message}\n")
    errors = sum(p.severity == Severity.ERROR for p in problems)
    warnings = sum(p.severity == Severity.WARNING for p in problems)
    if not as_json:
        checked = name or f"{len(loaded.runtimes)} skills"
        out.write(f"{checked}: {errors} errors, {warnings} warnings\n")
    return 1 if errors else 0


async def try_utterance(config: AssistantConfig, text: str, out: TextIO, *, as_json: bool,
                        slm: bool) -> int:
    """What each tier made of ``text``, and why; nothing is executed."""
    from assistant.llm.setup import attach_language_model
    from assistant.wiring import build_understanding

    loaded, understanding = build_understanding(config.skills.enabled, config.skill_configs(),
                                                language=config.skills.language)
    last_tier = attach_language_model(understanding, config.language_model) if slm else None
    try:
        report = await _tiers(understanding, loaded, text)
    finally:
        if last_tier is not None:
            await last_tier.aclose()
    if last_tier is not None and last_tier.notice:
        report["language_model"]["notice"] = last_tier.notice
    if as_json:
        out.write(json_line(report))
    else:
        _print_report(report, out)
    return 0


async def _tiers(understanding: Understanding, loaded: LoadedSkills, text: str
                 ) -> dict[str, Any]:
    analysis = understanding.analyze(text)
    utterance = analysis.normalized
    texts = {(s.tool, s.source): s.text for s in loaded.sentences}
    candidates = [{"tool": m.tool, "skill": loaded.owners.get(m.tool, ""),
                   "arguments": dict(m.arguments), "score": m.literal_chars,
                   "priority": m.priority, "fuzzy": m.fuzzy, "unknown_name": m.unknown_name,
                   "template": texts.get((m.tool, m.source), ""), "source": m.source}
                  for m in understanding.matcher.candidates(utterance)]
    ranked, no_tool = understanding.classifier.ranked(utterance.digits) \
        if not utterance.empty else ([], 0.0)
    decided = understanding.decide(text)
    undecided = understanding.undecided(decided)
    gate = TierSettings() if understanding.model_tier is None \
        else understanding.model_tier.settings
    asked = gated_candidates(understanding.classifier, understanding.catalog, utterance,
                             gate) if undecided else []
    final = await understanding.refine(decided)
    return {
        "text": text,
        "normalized": {"spoken": utterance.spoken, "digits": utterance.digits,
                       "rejected": utterance.rejected or None},
        "dialogue_word": str(analysis.act) if analysis.act is not None else None,
        "grammar": {"candidates": candidates, "settled": analysis.settled,
                    "ambiguous": analysis.ambiguous, "two_requests": analysis.two_requests,
                    "clause": list(analysis.clause) if analysis.clause else None},
        "classifier": {"consulted": not analysis.settled,
                       "labels": [{"tool": tool, "margin": round(score, 3)}
                                  for tool, score in ranked[:5]],
                       "no_tool_margin": round(no_tool, 3)},
        "language_model": {"would_ask": bool(asked), "candidates": asked,
                           "loaded": understanding.model_tier is not None,
                           "trained": understanding.specialized is not None},
        "decision": _decision(final, understanding.catalog, understanding),
    }


def _decision(decision: Decision, catalog: Catalog, understanding: Understanding
              ) -> dict[str, Any]:
    result = decision.to_json()
    result.pop("ms", None)
    if decision.tool is not None and not decision.missing and not decision.error:
        result["safety"] = str(understanding.safety(decision))
    elif decision.tool is not None:
        result["safety"] = str(catalog.tool(decision.tool).safety)
    return result


def _print_report(report: Mapping[str, Any], out: TextIO) -> None:
    normalized = report["normalized"]
    out.write(f"said:        {report['text']!r}\n")
    out.write(f"normalized:  {normalized['digits']!r} (as spoken: {normalized['spoken']!r})"
              + (f", rejected: {normalized['rejected']}" if normalized["rejected"] else "")
              + "\n")
    if report["dialogue_word"]:
        out.write(f"dialogue:    the word {report['dialogue_word']!r}\n")
    grammar = report["grammar"]
    out.write("templates:   " + ("no template matches\n" if not grammar["candidates"] else
                                 f"{len(grammar['candidates'])} match, best first\n"))
    for found in grammar["candidates"]:
        marks = "".join((" (misheard words put right)" if found["fuzzy"] else "",
                         " (unknown name)" if found["unknown_name"] else ""))
        out.write(f"  {found['skill']}.{found['tool']} {found['arguments']} score "
                  f"{found['score']} priority {found['priority']}{marks}\n"
                  f"    {found['template']!r} at {found['source']}\n")
    if grammar["ambiguous"]:
        out.write("  equally good matches of two tools at the same priority: "
                  "the assistant asks which one is meant\n")
    if grammar["clause"]:
        out.write(f"  one clause understood: {grammar['clause']}\n")
    classifier = report["classifier"]
    labels = ", ".join(f"{label['tool']} {label['margin']:+.2f}"
                       for label in classifier["labels"][:3])
    state = "asked" if classifier["consulted"] else "not needed (the templates settled it)"
    out.write(f"classifier:  {state}; top {labels}; no tool "
              f"{classifier['no_tool_margin']:+.2f}\n")
    model = report["language_model"]
    if model["would_ask"]:
        loaded = "" if model["loaded"] else " (not loaded; add --slm to ask it)"
        out.write(f"model:       would be asked to choose among "
                  f"{', '.join(model['candidates'])}{loaded}\n")
    else:
        out.write("model:       would not be asked\n")
    decision = report["decision"]
    if decision["tool"] is None:
        out.write(f"decision:    no tool (route {decision['route']})"
                  + (f": {decision['error']}" if decision.get("error") else "") + "\n")
        for choice in decision.get("choices", []):
            out.write(f"  choice: {choice['tool']} {choice['arguments']}\n")
        return
    out.write(f"decision:    {decision['tool']} {decision['arguments']} by the "
              f"{decision['route']}; safety {decision['safety']}\n")
    if decision.get("missing"):
        out.write(f"  asks for: {', '.join(decision['missing'])}\n")
    if decision.get("error"):
        out.write(f"  refused: {decision['error']}\n")
