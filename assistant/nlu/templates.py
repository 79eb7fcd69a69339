"""Sentence templates: the YAML a skill ships, parsed once at start-up.

Syntax of a sentence (close to hassil's):

* ``(warmer|hotter)`` alternatives, ``[the]`` optional words,
* ``{zone}`` a slot: an argument of the tool, typed by the tool's model,
* ``<temperature>`` an expansion rule declared under ``rules:``.

File layout::

    rules:
      temperature: "(temperature|temp|heat)"
    tools:
      set_temperature:
        - sentences: ["set [the] <temperature> to {celsius} [degrees]"]
      change_temperature:
        - sentences: ["[make it] warmer"]
          arguments: {delta: 1}        # fixed values this phrasing implies
        - sentences: ["lower [the] <temperature> by {delta}"]
          negate: [delta]              # the spoken number is a decrease
    examples:                          # phrasings the classifier learns from (and matched
                                       # as said), kept out of prompts and the pause logic
      change_temperature:
        - sentences: ["i'm freezing"]
          arguments: {delta: 2}

Two more keys settle overlaps with other skills: a top-level ``priority:`` (an integer,
default 0: when sentences of two skills match the same words, the higher wins) and, per
block, ``requires:`` (words, one of which must be said for the block to match).
``language:`` (default en) says which language the file is in; a skill may instead ship a
folder of ``<language>.yaml`` files, and the configured language picks one.

The file is checked against ``templates.schema.json`` (beside this module): an unknown key
(``tool:`` for ``tools:``) or a value of the wrong type is an error. ``on``, ``off``,
``yes``, ``no`` are read as the words they look like (YAML 1.1 would make them booleans),
and as booleans only in ``arguments:`` of a boolean argument. Every error carries the file
and the line it was found on.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import TemplateError
from assistant.nlu.expression import (
    Alternative,
    Expression,
    Sequence,
    SlotRef,
    Word,
    leaves,
    parse_expression,
    slot_names,
    word_texts,
)
from assistant.nlu.template_yaml import BooleanWord, line_of, read_template_file

__all__ = [
    "DEFAULT_LANGUAGE",
    "Alternative",
    "Expression",
    "Sequence",
    "SkillTemplates",
    "SlotRef",
    "TemplateSentence",
    "TemplateWarning",
    "Word",
    "leaves",
    "load_templates",
    "parse_expression",
    "read_templates",
    "sayable_arguments",
    "template_warnings",
    "word_texts",
]

DEFAULT_LANGUAGE = "en"
_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class TemplateSentence:
    """One sentence of one tool, with the arguments its phrasing fixes."""

    tool: str
    expression: Expression
    text: str
    source: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    negate: frozenset[str] = frozenset()
    example: bool = False
    priority: int = 0
    """The skill's ``priority:``: of two skills' sentences matching the same words, the
    higher wins."""
    requires: tuple[str, ...] = ()
    """The block's ``requires:``: the sentence matches only when one of these is said."""

    @property
    def slots(self) -> list[str]:
        return list(slot_names(self.expression))


@dataclass(frozen=True)
class TemplateWarning:
    """Something in a skill's templates that loads but is likely a mistake."""

    path: Path
    line: int
    code: str
    """``tool-without-sentences`` or ``language-missing``."""
    message: str
    skill: str = ""

    def __str__(self) -> str:
        who = f"skill {self.skill!r}: " if self.skill else ""
        return f"{self.path}:{self.line}: {who}{self.message}"


@dataclass(frozen=True)
class SkillTemplates:
    """One skill's templates in one language, and what is likely wrong with them."""

    sentences: tuple[TemplateSentence, ...]
    warnings: tuple[TemplateWarning, ...]
    language: str
    languages: tuple[str, ...]
    """Every language the skill ships templates in."""


def read_templates(
    path: Path,
    tool_arguments: Mapping[str, Collection[str]],
    *,
    language: str = DEFAULT_LANGUAGE,
    boolean_arguments: Mapping[str, Collection[str]] | None = None,
) -> SkillTemplates:
    """Load one skill's templates in ``language`` and check them against its tools.

    ``path`` is a ``templates.yaml`` (its ``language:`` says which, default en) or a folder
    of ``<language>.yaml`` files. ``boolean_arguments`` names, per tool, the arguments that
    are booleans: only there is a YAML 1.1 boolean word (``on``, ``yes``) read as one.
    A skill without templates in ``language`` loads no sentence and warns, naming the
    languages it has. A declared tool no sentence calls is a warning too.
    """
    chosen, document, languages = _in_language(path, language)
    if chosen is None:
        has = ", ".join(languages) or "none"
        warning = TemplateWarning(path, line_of(document.get("language")) or int(
            not path.is_dir()), "language-missing", f"no templates in {language!r} (it has "
            f"{has}): its tools load, but no sentence calls them")
        _LOGGER.warning("%s", warning)
        return SkillTemplates((), (warning,), language, languages)
    sentences = _sentences(chosen, document, tool_arguments, boolean_arguments or {})
    covered = {sentence.tool for sentence in sentences if not sentence.example}
    warnings = tuple(
        TemplateWarning(chosen, _line_of_tool(document, name), "tool-without-sentences",
                        f"tool {name!r} has no sentences under 'tools:': only a language "
                        "model can call it; add a block with the sentences that ask for it")
        for name in tool_arguments if name not in covered)
    for warning in warnings:
        _LOGGER.warning("%s", warning)
    return SkillTemplates(tuple(sentences), warnings, language, languages)


def _in_language(path: Path, language: str
                 ) -> tuple[Path | None, dict[str, Any], tuple[str, ...]]:
    """The file of ``path`` in ``language`` (None if there is none), its content, and the
    languages the skill has."""
    if not path.is_dir():
        document = read_template_file(path)[0]
        has = str(document.get("language") or DEFAULT_LANGUAGE)
        return (path if has == language else None), document, (has,)
    files_by_language = {file.stem: file for file in sorted(path.glob("*.yaml"))}
    chosen = files_by_language.get(language)
    if chosen is None:
        return None, {}, tuple(files_by_language)
    document = read_template_file(chosen)[0]
    if document.get("language", language) != language:
        raise TemplateError(chosen, line_of(document["language"]),
                            f"language {document['language']!r} in a file named for "
                            f"{language!r}; make them agree")
    return chosen, document, tuple(files_by_language)


def _line_of_tool(document: Mapping[str, Any], tool_name: str) -> int:
    """Where a tool is named (an empty entry, or its examples), else the ``tools:`` line."""
    for section in ("tools", "examples"):
        for key in document.get(section) or {}:
            if key == tool_name:
                return line_of(key)
    return next((line_of(key) for key in document if key == "tools"), 1)


def load_templates(
    path: Path,
    tool_arguments: Mapping[str, Collection[str]],
    *,
    language: str = DEFAULT_LANGUAGE,
    boolean_arguments: Mapping[str, Collection[str]] | None = None,
) -> list[TemplateSentence]:
    """The sentences of :func:`read_templates` (its warnings are logged)."""
    return list(read_templates(path, tool_arguments, language=language,
                               boolean_arguments=boolean_arguments).sentences)


def template_warnings(
    path: Path,
    tool_arguments: Mapping[str, Collection[str]],
    *,
    language: str = DEFAULT_LANGUAGE,
) -> list[TemplateWarning]:
    """What is likely wrong in a skill's templates that still load (see
    :func:`read_templates`)."""
    return list(read_templates(path, tool_arguments, language=language).warnings)


def _sentences(
    path: Path,
    document: Mapping[str, Any],
    tool_arguments: Mapping[str, Collection[str]],
    booleans: Mapping[str, Collection[str]],
) -> list[TemplateSentence]:
    rules: dict[str, Expression] = {}
    for name, text in (document.get("rules") or {}).items():
        rules[str(name)] = parse_expression(str(text), rules, (str(path), line_of(text)))
    priority = int(document.get("priority") or 0)
    sentences: list[TemplateSentence] = []
    for section, example in (("tools", False), ("examples", True)):
        for tool_name, blocks in (document.get(section) or {}).items():
            if tool_name not in tool_arguments:
                known = ", ".join(sorted(tool_arguments)) or "no tools"
                raise TemplateError(
                    path, line_of(tool_name), f"unknown tool {tool_name!r}; this skill has {known}")
            block_place = _Place(path, str(tool_name), frozenset(tool_arguments[tool_name]),
                                 frozenset(booleans.get(tool_name, ())), rules, priority, example)
            for block in blocks or []:
                sentences += _block(block_place, block)
    return sentences


@dataclass(frozen=True)
class _Place:
    """Where a block is and what it may name: its tool's arguments and the file's rules."""

    path: Path
    tool: str
    arguments: frozenset[str]
    booleans: frozenset[str]
    rules: Mapping[str, Expression]
    priority: int
    example: bool

    def fail(self, value: object, message: str) -> TemplateError:
        return TemplateError(self.path, line_of(value) or line_of(self.tool), message)


def _block(place: _Place, block: Mapping[str, Any]) -> list[TemplateSentence]:
    tool_name = place.tool
    fixed = {str(name): _argument_value(place, name, value)
             for name, value in (block.get("arguments") or {}).items()}
    negate = frozenset(str(n) for n in block.get("negate") or ())
    for name in [*(block.get("arguments") or {}), *(block.get("negate") or ())]:
        if name not in place.arguments:
            allowed = ", ".join(sorted(place.arguments)) or "no arguments"
            raise place.fail(name, f"{tool_name} has no argument {str(name)!r}; it takes {allowed}")
    requires = tuple(str(word).lower() for word in block.get("requires") or ())
    result = []
    for text in block["sentences"]:
        where = (str(place.path), line_of(text))
        expression = parse_expression(str(text), place.rules, where)
        sentence = TemplateSentence(tool_name, expression, str(text),
                                    f"{place.path}:{where[1]}", fixed, negate, place.example,
                                    priority=place.priority, requires=requires)
        for slot in sentence.slots:
            if slot not in place.arguments:
                allowed = ", ".join(sorted(place.arguments)) or "no arguments"
                raise TemplateError(place.path, where[1],
                                    f"{tool_name} has no argument {{{slot}}}; it takes {allowed}")
        result.append(sentence)
    return result


def _argument_value(place: _Place, name: object, value: object) -> Any:
    """A fixed value as the argument takes it: a boolean word (``on``, ``yes``) is a boolean
    only for a boolean argument, and stays the word it looks like for any other."""
    if str(name) in place.booleans:
        if isinstance(value, BooleanWord):
            return value.boolean
        raise place.fail(value or name, f"{place.tool}: {name} is on or off (true or false), "
                                        f"not {value!r}")
    if isinstance(value, str):
        return str(value)  # the word as written, without the loader's line
    return value


def sayable_arguments(sentences: Iterable[TemplateSentence]) -> dict[str, frozenset[str]]:
    """Per tool, the arguments some template of it lets a speaker say (a slot)."""
    found: dict[str, set[str]] = {}

    def walk(node: Sequence | Alternative | Word | SlotRef, names: set[str]) -> None:
        if isinstance(node, SlotRef):
            names.add(node.name)
        elif isinstance(node, Sequence):
            for item in node.items:
                walk(item, names)
        elif isinstance(node, Alternative):
            for option in node.options:
                walk(option, names)

    for sentence in sentences:
        walk(sentence.expression, found.setdefault(sentence.tool, set()))
    return {tool: frozenset(names) for tool, names in found.items()}
