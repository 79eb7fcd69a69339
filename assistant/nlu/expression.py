"""The sentence template language: ``(a|b)`` alternatives, ``[optional]`` words,
``{slot}`` arguments and ``<rule>`` expansions, parsed into a small tree (close to hassil's
``parse_expression``). Errors carry the file and line they were found on."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from assistant.errors import TemplateError

__all__ = ["Alternative", "Expression", "Sequence", "SlotRef", "Word", "leaves",
           "parse_expression", "slot_names", "word_texts"]


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


def slot_names(node: Sequence | Alternative | Word | SlotRef) -> Iterator[str]:
    """The name of every slot of an expression, in order."""
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
