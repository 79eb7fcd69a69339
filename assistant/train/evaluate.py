"""Held-out evaluation: the understanding with one last tier or another, on the same cases.

A case is a sentence and the call it means (tool None: no tool; arguments None: only the
tool is compared). Cases come from TSV files (``text<TAB>tool or -<TAB>arguments JSON``, as
in benchmarks/data) or sentence-test files (``assistant skills test``'s YAML).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.nlu.understand import Decision, Route, Understanding

__all__ = ["Case", "Score", "load_cases", "score"]


@dataclass(frozen=True)
class Case:
    text: str
    tool: str | None
    arguments: Mapping[str, Any] | None = None

    def correct(self, decision: Decision) -> bool:
        if self.tool is None:
            return decision.tool is None
        if decision.tool != self.tool:
            return False
        return self.arguments is None or _same(self.arguments, decision.arguments)


@dataclass
class Score:
    """How one configuration did on the cases."""

    correct: int = 0
    total: int = 0
    ood_calls: int = 0
    tier_ood_calls: int = 0
    tier_decided: int = 0
    tier_correct: int = 0
    tier_ms: list[float] = field(default_factory=list)
    decision_ms: list[float] = field(default_factory=list)
    outcomes: list[bool] = field(default_factory=list)
    """Per case, in order: whether it was right."""
    wrong: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.tier_ms)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] \
            if ordered else None
        return {"accuracy": self.accuracy, "correct": self.correct, "total": self.total,
                "ood_calls": self.ood_calls, "tier_ood_calls": self.tier_ood_calls,
                "tier_decided": self.tier_decided, "tier_correct": self.tier_correct,
                "tier_p50_ms": statistics.median(ordered) if ordered else None,
                "tier_p95_ms": p95}


def _same(expected: Mapping[str, Any], got: Mapping[str, Any]) -> bool:
    """Equal arguments; free text compared case-insensitively."""
    if expected.keys() != got.keys():
        return False
    for key, value in expected.items():
        other = got[key]
        if isinstance(value, str) and isinstance(other, str):
            if value.lower() != other.lower():
                return False
        elif value != other:
            return False
    return True


def load_cases(paths: Iterable[Path]) -> list[Case]:
    """Every case of ``paths`` (TSV or sentence-test YAML)."""
    cases: list[Case] = []
    for path in paths:
        if path.suffix in {".yaml", ".yml"}:
            from assistant.testing.sentences import load_sentence_file

            for sentence in load_sentence_file(path).cases:
                expected = sentence.expected
                cases.append(Case(sentence.say, expected.tool if expected else None,
                                  expected.arguments if expected else {}))
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise AssistantError("eval-unreadable", f"{path}: {err.strerror}") from err
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.startswith("#"):
                continue
            try:
                text, tool, arguments = line.split("\t")
                cases.append(Case(text, None if tool == "-" else tool, json.loads(arguments)))
            except ValueError as err:
                raise AssistantError("eval-unreadable", f"{path}:{number}: expected "
                                     f"text<TAB>tool<TAB>arguments JSON ({err})") from err
    return cases


async def score(understanding: Understanding, cases: Sequence[Case]) -> Score:
    """Each case through :meth:`Understanding.understand` with whatever last tier is
    attached."""
    result = Score()
    for case in cases:
        decision = await understanding.understand(case.text)
        tier = understanding.specialized or understanding.model_tier
        ok = case.correct(decision)
        result.total += 1
        result.correct += ok
        result.outcomes.append(ok)
        result.decision_ms.append(decision.ms)
        if tier is not None and tier.last_call_ms is not None:
            result.tier_ms.append(tier.last_call_ms)
        if decision.route == Route.SLM:
            result.tier_decided += 1
            result.tier_correct += ok
        if case.tool is None and decision.tool is not None:
            result.ood_calls += 1
            result.tier_ood_calls += decision.route == Route.SLM
        if not ok:
            result.wrong.append(f"{case.text!r}: expected {case.tool}, got {decision.tool} "
                                f"{decision.arguments} via {decision.route}")
    return result
