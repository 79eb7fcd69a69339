"""A decided call said back in the skills' own words: "Open the passenger window to 10
percent?"

Each of the tool's templates is read plainly with the call's values in its slots, and
kept only if the matcher reads them back as exactly the same call, so what is asked is
what would run. The sentence that says the most arguments wins, then the skill's first
phrasing; a tool's own read-back (confirm-class tools have one) is used as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from assistant.dispatch.catalog import ArgSpec, Catalog
from assistant.nlu.matcher import TemplateMatcher
from assistant.nlu.normalize import normalize
from assistant.nlu.templates import Alternative, Sequence, SlotRef, TemplateSentence, Word
from assistant.skill_api import SlotKind
from assistant.spoken import format_number

__all__ = ["ReadBack"]



class ReadBack:
    def __init__(self, sentences: Iterable[TemplateSentence], catalog: Catalog,
                 matcher: TemplateMatcher) -> None:
        self.catalog = catalog
        self.matcher = matcher
        self._templates: dict[str, list[TemplateSentence]] = {}
        for sentence in sentences:
            if not sentence.example:
                self._templates.setdefault(sentence.tool, []).append(sentence)

    def sentence(self, tool: str, arguments: Mapping[str, Any]) -> str:
        """The call as a sentence without end punctuation ("open the driver window")."""
        specs = self.catalog.specs[tool]
        wanted = dict(arguments)
        own = self.catalog.tool(tool).readback
        checked = self.catalog.check(tool, wanted)
        if own is not None and checked.model is not None:
            text = own(checked.model).rstrip(".?! ")
            return text[:1].lower() + text[1:]
        needed = {name for name, value in wanted.items() if value != specs[name].default}
        best: tuple[tuple[int, int, int, int], str] | None = None
        for order, template in enumerate(self._templates.get(tool, [])):
            if any(wanted.get(name) != value for name, value in template.fixed.items()):
                continue
            words = _Renderer(specs, wanted, needed, template.negate).words(template.expression)
            if words is None:
                continue
            text = " ".join(words)
            matched = self.matcher.match(normalize(text))
            if matched is None or matched.tool != tool or matched.unknown_name \
                    or self.catalog.check(tool, matched.arguments).arguments != wanted:
                continue
            said = set(matched.said) | set(template.fixed)
            rank = (-len(said & needed), len(said - needed), order, len(words))
            if best is None or rank < best[0]:
                best = (rank, text)
        if best is not None:
            return best[1]
        description = self.catalog.tool(tool).description
        return description[:1].lower() + description[1:]

    def question(self, tool: str, arguments: Mapping[str, Any]) -> str:
        text = self.sentence(tool, arguments)
        return text[:1].upper() + text[1:] + "?"


class _Renderer:
    """A template's plainest reading that says the call's values: in each alternative the
    first option that says a value the call needs (else the first option), optional parts
    only when they say such a value or are a short word ("the")."""

    def __init__(self, specs: Mapping[str, ArgSpec], values: Mapping[str, Any],
                 needed: set[str], negate: frozenset[str]) -> None:
        self.specs, self.values, self.needed, self.negate = specs, values, needed, negate

    def words(self, node: Sequence | Alternative | Word | SlotRef) -> list[str] | None:
        if isinstance(node, Word):
            return [node.text]
        if isinstance(node, SlotRef):
            value = self.values.get(node.name)
            if value is None:
                return None
            if node.name in self.negate and isinstance(value, int | float):
                value = -value
            return [spoken(self.specs[node.name], value)]
        if isinstance(node, Sequence):
            out: list[str] = []
            for item in node.items:
                words = self.words(item)
                if words is None:
                    return None
                out += words
            return out
        saying = [o for o in node.options if _slots(o) & self.needed]
        for option in saying:
            words = self.words(option)
            if words is not None:
                return words
        if node.optional:
            first = node.options[0]
            words = None if _slots(first) else self.words(first)
            return words if words is not None and len(words) <= 2 else []
        for option in node.options:
            words = self.words(option)
            if words is not None:
                return words
        return None


def _slots(node: Sequence | Alternative | Word | SlotRef) -> set[str]:
    if isinstance(node, SlotRef):
        return {node.name}
    if isinstance(node, Sequence):
        return set().union(*(_slots(i) for i in node.items))
    if isinstance(node, Alternative):
        return set().union(*(_slots(o) for o in node.options))
    return set()


def spoken(spec: ArgSpec, value: Any) -> str:
    """How a value is said: a name's plainest alias, a number, a duration in minutes."""
    if spec.kind == SlotKind.NUMBER and isinstance(value, int | float) \
            and not isinstance(value, bool):
        return format_number(value)
    names = [name for name, known in spec.values.items() if known == value]
    plain = str(value).replace("_", " ")
    if plain in names:
        return plain
    if names:
        return min(names, key=lambda n: (any(c.isdigit() for c in n), len(n)))
    if spec.kind == SlotKind.DURATION and isinstance(value, int | float):
        seconds = int(value)
        if seconds % 3600 == 0:
            return f"{seconds // 3600} hours" if seconds != 3600 else "1 hour"
        if seconds % 60 == 0:
            return f"{seconds // 60} minutes" if seconds != 60 else "1 minute"
        return f"{seconds} seconds"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return format_number(value)
    return str(value)
