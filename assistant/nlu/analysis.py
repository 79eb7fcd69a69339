"""One utterance analysed once: its normalized forms, whether it is a dialogue word, and
the templates' reading of it, checked.

Every stage that asks about an utterance (the speech recognizer for each of its
hypotheses, the pipeline at a pause, the dialogue, the tiers) asks the same
:class:`Analyzer`, which keeps the latest analyses by the raw text. Only what the templates
decide is analysed here; the classifier and the language model are asked later, and only
about what the templates leave undecided.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from assistant.dispatch.catalog import Catalog, Checked
from assistant.nlu.acts import DialogueAct, dialogue_act
from assistant.nlu.clauses import Call, Clauses
from assistant.nlu.matcher import TemplateMatch, TemplateMatcher
from assistant.nlu.normalize import Normalized, normalize
from assistant.skill_api import Safety, SlotKind, Tool

__all__ = ["ANALYSES_KEPT", "Analysis", "Analyzer", "WholeCall"]

ANALYSES_KEPT = 256
"""Analyses kept, latest used first: one turn asks about a few dozen texts at most (each
recognizer's hypotheses, the names put right, the nearest sentences)."""
_AFTER_CONJUNCTION = re.compile(r"\b(?:and|then|and then|also)\b (?=(.+))")

WholeCall = tuple[str, Mapping[str, Any]]
"""A tool and its validated arguments (read-only: analyses are shared)."""


@dataclass(frozen=True)
class Analysis:
    """What the templates make of one utterance; shared, so never changed."""

    text: str
    normalized: Normalized
    act: DialogueAct | None
    """The dialogue word the whole utterance is ("yes", "cancel"), if it is one."""
    match: TemplateMatch | None
    """The template matching the whole utterance, one with a name that names nothing here
    ("start press 9") included."""
    clause: Call | None
    """Without a usable match: the call of a run-on's one clause, or of a stop said first."""
    two_requests: bool
    """The match's free text goes on into another request ("play some jazz and navigate
    home"): one call would do half of what was asked."""
    checked: Checked | None
    """The templates' reading (the match, else the clause) checked against its tool."""
    call: WholeCall | None
    """That reading when it is whole: every argument present and valid."""
    safety: Safety | None
    """The whole call's safety class."""

    @property
    def ambiguous(self) -> bool:
        """Templates of two tools match equally well at the same priority: the words do not
        say which is meant (the match's ``rivals``), so there is no one call."""
        return self.match is not None and not self.match.unknown_name \
            and self.match.ambiguous

    @property
    def reading(self) -> Call | None:
        """The templates' reading before it is checked: the match, else the clause."""
        if self.ambiguous:
            return None
        if self.match is not None and not self.match.unknown_name:
            return self.match.tool, self.match.arguments
        return self.clause

    @property
    def settled(self) -> bool:
        """Whether the templates decide alone (a call, or no call); otherwise the
        classifier is asked."""
        if self.normalized.empty or self.act is not None:
            return True
        if self.match is not None:
            return not self.match.unknown_name
        return self.clause is not None

    @property
    def grammar(self) -> Call | None:
        """The call the templates decide on, when :attr:`settled`: none for a dialogue
        word, for nothing said, or for two requests in one."""
        if self.normalized.empty or self.act is not None or self.two_requests \
                or self.ambiguous:
            return None
        if self.match is not None:
            return None if self.match.unknown_name else (self.match.tool, self.match.arguments)
        return self.clause


class Analyzer:
    """Makes analyses, keeping the latest :data:`ANALYSES_KEPT` by raw text; they are
    forgotten when the catalog's tools change (a check or a safety class could differ).
    Safe to use from the recognizer's worker thread and the event loop at once."""

    def __init__(self, matcher: TemplateMatcher, clauses: Clauses, catalog: Catalog, *,
                 kept: int = ANALYSES_KEPT) -> None:
        self.matcher = matcher
        self.clauses = clauses
        self.catalog = catalog
        self._installed: dict[str, Tool] = dict(catalog.tools)
        self._kept = functools.lru_cache(maxsize=kept)(self._analysis)

    def analyze(self, text: str) -> Analysis:
        """The analysis of ``text``, made on first use; never raises on any input."""
        if self._tools_changed():
            self._kept.cache_clear()
        return self._kept(text)

    def _tools_changed(self) -> bool:
        tools = self.catalog.tools
        if len(tools) == len(self._installed) and all(
                tools.get(name) is tool for name, tool in self._installed.items()):
            return False
        self._installed = dict(tools)
        return True

    def _analysis(self, text: str) -> Analysis:
        utterance = normalize(text)
        matched = self._allowed(self.matcher.match(utterance))
        clause = None
        if (matched is None or matched.unknown_name) and not utterance.rejected:
            clause = self.clauses.understood(text, utterance)
        usable = matched is not None and not matched.unknown_name and not matched.ambiguous
        reading = (matched.tool, matched.arguments) if usable and matched is not None \
            else clause
        checked = None if reading is None else self.catalog.check(*reading)
        call: WholeCall | None = None
        safety = None
        if reading is not None and checked is not None and not checked.missing \
                and checked.error is None:
            call = (reading[0], MappingProxyType(dict(checked.arguments)))
            safety = self.catalog.safety(*call)
        two_requests = usable and matched is not None \
            and self._two_requests(matched.tool, matched.arguments)
        return Analysis(text, utterance, dialogue_act(utterance), matched, clause,
                        two_requests, checked, call, safety)

    def _allowed(self, matched: TemplateMatch | None) -> TemplateMatch | None:
        """Of readings the words fit equally well, those whose values their tool allows
        ("heat front right to 28" is no seat heater level): one left is the match."""
        if matched is None or not matched.rivals:
            return matched
        readings = [matched, *matched.rivals]
        allowed = [m for m in readings if self.catalog.check(m.tool, m.arguments).error is None]
        if not allowed:
            return dataclasses.replace(matched, rivals=())
        return dataclasses.replace(allowed[0], rivals=tuple(allowed[1:]))

    def _two_requests(self, tool: str, arguments: Mapping[str, Any]) -> bool:
        for name, spec in self.catalog.specs[tool].items():
            value = arguments.get(name)
            if spec.kind != SlotKind.TEXT or not isinstance(value, str):
                continue
            for rest in _AFTER_CONJUNCTION.findall(normalize(value).spoken):
                if self.matcher.match(normalize(rest)) is not None:
                    return True
        return False
