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

Every error carries the file and the line it was found on.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import TemplateError

__all__ = [
    "Alternative",
    "Expression",
    "SlotRef",
    "TemplateSentence",
    "Word",
    "leaves",
    "load_templates",
    "parse_expression",
    "sayable_arguments",
    "word_texts",
]


@dataclass(frozen=True, slots=True)
class Word:
    text: str


@dataclass(frozen=True, slots=True)
class SlotRef:
    name: str


@dataclass(frozen=True, slots=True)
class Alternative:
    options: tuple[Sequence, ...]
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Sequence:
    items: tuple[Word | SlotRef | Alternative, ...]


Expression = Sequence


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
    requires: tuple[str, ...] = ()

    @property
    def slots(self) -> list[str]:
        return list(_slot_names(self.expression))


def leaves(node: Sequence | Alternative | Word | SlotRef) -> Iterator[Word | SlotRef]:
    """Every word and slot of an expression, every alternative's included, in order."""
    if isinstance(node, Word | SlotRef):
        yield node
    elif isinstance(node, Sequence):
        for item in node.items:
            yield from leaves(item)
    else:
        for option in node.options:
            yield from leaves(option)


def word_texts(node: Sequence | Alternative | Word | SlotRef) -> Iterator[str]:
    """The text of every literal word of an expression."""
    return (leaf.text for leaf in leaves(node) if isinstance(leaf, Word))


def _slot_names(node: Sequence | Alternative | Word | SlotRef) -> Iterator[str]:
    return (leaf.name for leaf in leaves(node) if isinstance(leaf, SlotRef))


_TOKEN = re.compile(r"\s*(\(|\)|\[|\]|\||\{[^{}]*\}|<[^<>]*>|[^\s()\[\]|{}<>]+|\S)")


class _Parser:
    def __init__(self, text: str, rules: Mapping[str, Expression], where: tuple[str, int]) -> None:
        self.tokens = [t for t in _TOKEN.findall(text) if t]
        self.position = 0
        self.rules = rules
        self.where = where

    def fail(self, message: str) -> TemplateError:
        return TemplateError(self.where[0], self.where[1], message)

    def parse(self) -> Expression:
        expression = self.alternatives(closing=None)
        if not expression.options:
            raise self.fail("empty template")
        if len(expression.options) == 1:
            return expression.options[0]
        return Sequence((expression,))

    def alternatives(self, closing: str | None) -> Alternative:
        options: list[Sequence] = []
        items: list[Word | SlotRef | Alternative] = []
        while True:
            if self.position >= len(self.tokens):
                if closing is not None:
                    raise self.fail(f"missing '{closing}'")
                options.append(Sequence(tuple(items)))
                return Alternative(tuple(options))
            token = self.tokens[self.position]
            self.position += 1
            if token == closing:
                options.append(Sequence(tuple(items)))
                return Alternative(tuple(options), optional=closing == "]")
            if token == "|":
                options.append(Sequence(tuple(items)))
                items = []
            elif token in ("(", "["):
                group = self.alternatives(")" if token == "(" else "]")
                if not any(option.items for option in group.options):
                    raise self.fail(f"empty group '{token}'")
                items.append(group)
            elif token in (")", "]"):
                raise self.fail(f"unexpected '{token}'")
            elif token.startswith("{"):
                name = token[1:-1].strip()
                if not name.isidentifier():
                    raise self.fail(f"bad slot name {token!r}")
                items.append(SlotRef(name))
            elif token.startswith("<"):
                rule = token[1:-1].strip()
                if rule not in self.rules:
                    known = ", ".join(sorted(self.rules)) or "none"
                    raise self.fail(f"unknown rule <{rule}>; rules: {known}")
                items.append(Alternative((self.rules[rule],)))
            elif token in ("{", "}", "<", ">"):
                raise self.fail(f"unbalanced '{token}'")
            elif token.startswith("'"):
                raise self.fail(f"{token!r} is not a word; write the whole word (\"how's\")")
            else:
                items.append(Word(token.lower()))


def parse_expression(
    text: str, rules: Mapping[str, Expression] | None = None, where: tuple[str, int] = ("", 0)
) -> Expression:
    """Parse one sentence template; raises :class:`TemplateError` with the location."""
    return _Parser(text, rules or {}, where).parse()


class _LineStr(str):
    line: int = 0


class _Loader(yaml.SafeLoader):
    pass


def _construct_str(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> _LineStr:
    value = _LineStr(loader.construct_scalar(node))
    value.line = node.start_mark.line + 1
    return value


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def _line(value: object) -> int:
    return value.line if isinstance(value, _LineStr) else 0


def load_templates(
    path: Path, tool_arguments: Mapping[str, frozenset[str]]
) -> list[TemplateSentence]:
    """Load and check one skill's template file against the tools the skill declares."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except OSError as err:
        raise TemplateError(path, 0, f"cannot read templates: {err}") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise TemplateError(path, line, f"invalid YAML: {err}") from err
    if not isinstance(document, dict):
        raise TemplateError(path, 1, "expected a mapping with 'tools:'")
    rules: dict[str, Expression] = {}
    for name, text in (document.get("rules") or {}).items():
        rules[str(name)] = parse_expression(str(text), rules, (str(path), _line(text)))
    priority = document.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise TemplateError(path, 1, f"priority must be a whole number, not {priority!r}")
    sentences: list[TemplateSentence] = []
    for section, example in (("tools", False), ("examples", True)):
        for tool_name, blocks in (document.get(section) or {}).items():
            if tool_name not in tool_arguments:
                known = ", ".join(sorted(tool_arguments))
                raise TemplateError(
                    path, _line(tool_name), f"unknown tool {tool_name!r}; this skill has {known}"
                )
            for block in blocks or []:
                sentences += _block(path, str(tool_name), block, rules=rules,
                                    arguments=tool_arguments[tool_name], example=example)
    return [dataclasses.replace(sentence, priority=priority) for sentence in sentences]


def _block(
    path: Path,
    tool_name: str,
    block: Any,
    *,
    rules: Mapping[str, Expression],
    arguments: frozenset[str],
    example: bool,
) -> list[TemplateSentence]:
    if not isinstance(block, dict) or "sentences" not in block:
        raise TemplateError(path, _line(tool_name), f"{tool_name}: each entry needs 'sentences:'")
    fixed = dict(block.get("arguments") or {})
    negate = frozenset(str(n) for n in block.get("negate") or ())
    requires = tuple(str(word).lower() for word in block.get("requires") or ())
    for name in [*fixed, *negate]:
        if name not in arguments:
            raise TemplateError(path, _line(name) or _line(tool_name),
                                f"{tool_name} has no argument {name!r}")
    result = []
    for text in block["sentences"]:
        where = (str(path), _line(text))
        expression = parse_expression(str(text), rules, where)
        sentence = TemplateSentence(tool_name, expression, str(text), f"{path}:{where[1]}",
                                    fixed, negate, example, requires=requires)
        for slot in sentence.slots:
            if slot not in arguments:
                allowed = ", ".join(sorted(arguments)) or "no arguments"
                raise TemplateError(path, where[1],
                                    f"{tool_name} has no argument {{{slot}}}; it takes {allowed}")
        result.append(sentence)
    return result


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
