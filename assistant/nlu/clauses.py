"""Commands inside longer talk, by the templates' own rules: the one clause of a run-on
that asks for something ("roll up the windows, it's raining"), and a whole stop said first
("emergency stop it's oil")."""

from __future__ import annotations

import re
from typing import Any

from assistant.dispatch.catalog import Catalog
from assistant.nlu.matcher import TemplateMatcher
from assistant.nlu.normalize import Normalized, normalize
from assistant.skill_api import Safety

__all__ = ["NUMBER_WORD", "Call", "Clauses"]

Call = tuple[str, dict[str, Any]]
"""A tool and its arguments."""

NUMBER_WORD = re.compile(r"\S*\d\S*")
"""A word with a digit in it: a number as speech-to-text writes it."""
_CLAUSE_BREAK = re.compile(
    r"(?:[;!?]|(?<!\d)[,.]|[,.](?!\d))+\s*|\s+-\s+"
    # a reason said after the request: "turn the heat up because I'm freezing"
    r"|\s+(?=(?:because|'?cause|cuz|since|so that|so (?:i|we|it|that|the|my|you)|"
    r"in order to)\b)", re.IGNORECASE)
_AFTER_A_STOP = 2
"""Words after a whole stop that still leave it a stop: a mishearing's tail, not another
request (word salad that happens to begin with a stop goes on longer)."""
_NEGATION = re.compile(r"\b(?:no|not|don't|dont|never|wait|cancel|undo)\b")
_CORRECTION = re.compile(r"\b(?:actually|wait|no|not|don't|dont|never|instead|rather|but|"
                         r"cancel|undo|stop|sorry)\b")


class Clauses:
    def __init__(self, matcher: TemplateMatcher, catalog: Catalog) -> None:
        self.matcher = matcher
        self.catalog = catalog

    def understood(self, text: str, utterance: Normalized) -> Call | None:
        """The call of a run-on's one clause, or of a stop said first."""
        return self.one_clause(text) or self.stop_first(utterance)

    def one_clause(self, text: str) -> Call | None:
        """A run-on ("roll up the windows, it's raining"; "find a hospital, quick"; "turn the
        heat up because I'm freezing"): the one clause a template matches whole (a value it
        lacks is asked for), if the others ask for nothing and correct nothing (no numbers,
        no "actually", "no", "not": "volume to 60, actually make it 50")."""
        clauses = [c for c in _CLAUSE_BREAK.split(text) if c.strip()]
        if len(clauses) < 2 or len(clauses) > 4:
            return None
        found: list[tuple[str, dict[str, Any]]] = []
        corrected = False
        for clause in clauses:
            utterance = normalize(clause)
            matched = None if utterance.empty else self.matcher.match(utterance)
            if matched is not None and not matched.unknown_name:
                if self.catalog.check(matched.tool, matched.arguments).error:
                    return None
                found.append((matched.tool, dict(matched.arguments)))
            elif _CORRECTION.search(utterance.digits) or NUMBER_WORD.search(utterance.digits):
                corrected = True
        if len(found) != 1:
            return None
        tool, arguments = found[0]
        # "the lathe, stop it, stop the lathe": a stop among the words is no correction of it
        if corrected and self.catalog.safety(tool, arguments) != Safety.IMMEDIATE:
            return None
        return tool, arguments

    def stop_first(self, utterance: Normalized) -> Call | None:
        """A whole stop said first, then a word or two nobody understands ("emergency stop
        it's oil", a mishearing of "emergency, stop it all"): the stop acts, unless the words
        after it say not to. A missed stop costs more than a wrong one."""
        words = utterance.digits.split()
        for end in range(len(words) - 1, max(1, len(words) - 1 - _AFTER_A_STOP), -1):
            head = normalize(" ".join(words[:end]))
            matched = self.matcher.match(head)
            if matched is None or matched.unknown_name or matched.fuzzy \
                    or self.catalog.safety(matched.tool, matched.arguments) != Safety.IMMEDIATE:
                continue
            checked = self.catalog.check(matched.tool, matched.arguments)
            if checked.missing or checked.error or _NEGATION.search(" ".join(words[end:])):
                return None
            return matched.tool, dict(matched.arguments)
        return None
