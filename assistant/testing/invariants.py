"""The safety rules, checked after every step of a session (see :mod:`assistant.testing.rig`).

Each rule is judged from what was said, the events the session emitted, the audit log on
disk and the state of the simulated car and plant before and after the step, never from
the dialogue's own bookkeeping:

* a confirm-class action runs only after its confirmation was asked and a yes came in time;
* every stop said is acted on at once, whatever is pending: its action is the step's first;
* nothing starts while a stop-all is latched; no unlock while the car moves;
* every action has its audit records, in order, and every line of the log is a whole record;
* an action that was sent and never confirmed is said to be neither done nor not done;
* no call from words that hold no word of that tool's sentences, and no stop from salad;
* the dialogue never raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from assistant.dispatch.audit import read_records
from assistant.dispatch.dispatcher import AUDIT_REFUSAL
from assistant.events import (
    ActionEvent,
    ActionOutcome,
    CancelledEvent,
    ConfirmEvent,
    Event,
    IntentEvent,
    RefusedEvent,
)
from assistant.nlu.acts import DialogueAct, dialogue_act
from assistant.nlu.normalize import normalize, numbers_to_digits, sanitize
from assistant.nlu.templates import Alternative, Sequence, SlotRef, Word, word_texts
from assistant.skill_api import Safety
from assistant.wiring import Assistant

__all__ = ["Monitor", "Rule", "Snapshot", "Step", "Violation"]

# Words too common to say which tool is meant; the rule's own list, not understanding's.
_LITTLE = frozenset({
    "a", "an", "the", "to", "at", "in", "on", "of", "for", "from", "by", "with", "it", "its",
    "it's", "this", "that", "my", "me", "i", "i'm", "you", "your", "we", "us", "our", "is",
    "are", "be", "am", "do", "can", "could", "would", "will", "please", "and", "or", "up",
    "down", "off"})
_DENIALS = ("didn't work", "nothing was done", "was not done", "wasn't done")


class Rule(StrEnum):
    CONFIRMED_IN_TIME = "a confirm-class action only after its confirmation and a yes in time"
    STOP_ACTS = "every stop said is acted on at once, whatever is pending"
    LATCH_HOLDS = "nothing starts while latched"
    NO_UNLOCK_MOVING = "no unlock while moving"
    AUDITED = "every action has its audit records, in order, parseable"
    UNCONFIRMED_HONEST = "no reply claims done or not done for an unconfirmed command"
    COMMAND_WORD = "no call from text without a command word for it"
    SALAD_NEVER_STOPS = "word salad never stops anything"
    NEVER_RAISES = "the dialogue never raises"


@dataclass(frozen=True)
class Violation:
    rule: Rule
    step: int
    detail: str

    def __str__(self) -> str:
        return f"step {self.step}: {self.rule.value}: {self.detail}"


@dataclass(frozen=True)
class Snapshot:
    """The controlled systems' state at one moment."""

    latched: bool
    running: Mapping[str, bool]
    conveyors: Mapping[str, int]
    speed: float
    locked: bool
    bus_fault: str


@dataclass(frozen=True)
class Step:
    """One step of a session, as the monitor judges it."""

    index: int
    utterance: str | None
    kind: str
    expected: tuple[str, Mapping[str, Any]] | None
    events: list[Event]
    before: Snapshot
    after: Snapshot
    disk_ok: bool
    said_at: float
    first_record: int
    error: str = ""

    def of(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@dataclass
class _Awaiting:
    tool: str
    arguments: dict[str, Any]
    deadline: float


@dataclass
class Monitor:
    """Checks every rule after each step; keeps only what the rules need between steps."""

    assistant: Assistant
    audit_path: Path
    records_seen: int = 0
    violations: list[Violation] = field(default_factory=list)
    _awaiting: _Awaiting | None = None
    _vocabulary: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._vocabulary = _tool_vocabulary(self.assistant)

    def check(self, step: Step) -> list[Violation]:
        found: list[Violation] = []

        def broken(rule: Rule, detail: str) -> None:
            found.append(Violation(rule, step.index, f"{detail} (said {step.utterance!r})"))

        if step.error:
            broken(Rule.NEVER_RAISES, step.error)
        self._stops(step, broken)
        self._confirmations(step, broken)
        self._interlocks(step, broken)
        self._audit(step, broken)
        self._unconfirmed(step, broken)
        self._command_words(step, broken)
        if step.kind == "salad":  # a new request from it, not the answer to a question
            decided = {intent.tool for intent in step.of(IntentEvent)}
            for action in step.of(ActionEvent):
                if action.tool in decided and self._safety(action) == Safety.IMMEDIATE:
                    broken(Rule.SALAD_NEVER_STOPS, f"{action.tool} {action.arguments}")
        self.violations += found
        return found

    def _safety(self, event: ActionEvent) -> Safety:
        return self.assistant.understanding.catalog.safety(event.tool, event.arguments)

    def _confirmations(self, step: Step, broken: Any) -> None:
        said = dialogue_act(normalize(step.utterance)) if step.utterance is not None else None
        awaiting = self._awaiting
        for action in step.of(ActionEvent):
            if self._safety(action) != Safety.CONFIRM:
                continue
            if said != DialogueAct.YES or awaiting is None:
                broken(Rule.CONFIRMED_IN_TIME, f"{action.tool} ran without a yes to its "
                       "confirmation")
            elif (awaiting.tool, awaiting.arguments) != (action.tool, action.arguments):
                broken(Rule.CONFIRMED_IN_TIME, f"{action.tool} {action.arguments} ran on a yes "
                       f"to {awaiting.tool} {awaiting.arguments}")
            elif step.said_at > awaiting.deadline:
                broken(Rule.CONFIRMED_IN_TIME, f"{action.tool} ran on a yes "
                       f"{step.said_at - awaiting.deadline:.1f} s too late")
        confirm_seconds = self.assistant.dialogue.confirm_seconds
        asked = step.of(ConfirmEvent)
        if asked:
            last = asked[-1]
            self._awaiting = _Awaiting(last.tool, dict(last.arguments),
                                       step.said_at + confirm_seconds)
        elif step.utterance is not None:
            if said == DialogueAct.REPEAT and awaiting is not None \
                    and self.assistant.dialogue.deadline is not None:
                awaiting.deadline = step.said_at + confirm_seconds
            else:
                self._awaiting = None

    def _stops(self, step: Step, broken: Any) -> None:
        if step.expected is None:
            return
        tool, arguments = step.expected
        actions = step.of(ActionEvent)
        if not actions or (actions[0].tool, actions[0].arguments) != (tool, dict(arguments)):
            broken(Rule.STOP_ACTS, f"expected {tool} {dict(arguments)} to run first; ran "
                   f"{[(a.tool, a.arguments) for a in actions]}")
            return
        first = step.events.index(actions[0])
        expired = self._awaiting is not None and step.said_at >= self._awaiting.deadline
        if not expired and any(isinstance(e, CancelledEvent) for e in step.events[:first]):
            broken(Rule.STOP_ACTS, f"{tool} ran only after a pending confirmation was "
                   "cancelled")

    @staticmethod
    def _interlocks(step: Step, broken: Any) -> None:
        after = step.after
        if after.latched and (any(after.running.values()) or any(after.conveyors.values())):
            broken(Rule.LATCH_HOLDS, f"latched, yet running {after.running} at "
                   f"{after.conveyors}")
        for action in step.of(ActionEvent):
            if action.outcome != ActionOutcome.DONE:
                continue
            if action.tool == "start_machine" and step.before.latched:
                broken(Rule.LATCH_HOLDS, f"started {action.arguments} while latched")
            if action.tool == "unlock_doors" and step.before.speed > 0:
                broken(Rule.NO_UNLOCK_MOVING, f"unlocked at {step.before.speed} km/h")
        if step.before.speed > 0 and step.before.locked and not after.locked:
            broken(Rule.NO_UNLOCK_MOVING, f"the doors opened at {step.before.speed} km/h")

    def _audit(self, step: Step, broken: Any) -> None:
        log = read_records(self.audit_path)
        if log.skipped:
            broken(Rule.AUDITED, f"{log.skipped} line(s) of the audit log are not whole "
                   "records")
        new = log.records[step.first_record:]
        self.records_seen = len(log.records)
        if not step.disk_ok:
            for action in step.of(ActionEvent):
                if self._safety(action) != Safety.IMMEDIATE:
                    broken(Rule.AUDITED, f"{action.tool} ran with no audit log")
                elif "audit log could not be written" not in action.message:
                    broken(Rule.AUDITED, f"{action.tool} ran unaudited and did not say so")
            return
        expected = list(self._expected_records(step.events))
        written = iter((r.get("kind"), r.get("tool")) for r in new)
        missing = [record for record in expected if record not in written]
        if missing:
            broken(Rule.AUDITED, f"records {missing} missing or out of order in "
                   f"{[(r.get('kind'), r.get('tool')) for r in new]}")
        for action in step.of(ActionEvent):
            results = [r for r in new if r.get("kind") == "result"
                       and r.get("tool") == action.tool]
            if not results or results[-1].get("outcome") != action.outcome:
                broken(Rule.AUDITED, f"{action.tool}'s result record does not say "
                       f"{action.outcome}")

    def _expected_records(self, events: Iterable[Event]) -> Iterable[tuple[str, str | None]]:
        for event in events:
            if isinstance(event, ConfirmEvent):
                yield "confirm_requested", event.tool
            elif isinstance(event, ActionEvent):
                if self._safety(event) == Safety.CONFIRM:
                    yield "confirmed", event.tool
                yield "executing", event.tool
                yield "result", event.tool
            elif isinstance(event, RefusedEvent) and event.reason != AUDIT_REFUSAL:
                yield "refused", event.tool
            elif isinstance(event, CancelledEvent):
                yield "cancelled", event.tool

    @staticmethod
    def _unconfirmed(step: Step, broken: Any) -> None:
        for action in step.of(ActionEvent):
            if action.outcome != ActionOutcome.UNCONFIRMED:
                continue
            text = action.message.lower()
            if action.ok or any(denial in text for denial in _DENIALS) \
                    or "not confirmed" not in text:
                broken(Rule.UNCONFIRMED_HONEST, f"{action.tool} unconfirmed, but said "
                       f"{action.message!r}")
        if step.before.bus_fault == "no_ack" and step.before != step.after:
            for action in step.of(ActionEvent):
                if action.outcome == ActionOutcome.FAILED and action.tool in (
                        "start_machine", "stop_machine", "emergency_stop",
                        "set_conveyor_speed"):
                    broken(Rule.UNCONFIRMED_HONEST, f"{action.tool} reported not done, yet "
                           "the plant changed")

    def _command_words(self, step: Step, broken: Any) -> None:
        if step.utterance is None:
            return
        words = set(normalize(step.utterance).digits.split())
        forms = words | {_stem(w) for w in words}
        for intent in step.of(IntentEvent):
            if intent.tool is None:
                continue
            if not forms & self._vocabulary.get(intent.tool, frozenset()):
                broken(Rule.COMMAND_WORD, f"{intent.tool} from words with none of its own "
                       f"({intent.route})")


def _stem(word: str) -> str:
    return re.sub(r"(?<=\w{3})(ing|ed|es|s)$", "", word)


def _tool_vocabulary(assistant: Assistant) -> dict[str, frozenset[str]]:
    """Each tool's words: its sentences' words and its arguments' spoken values (stems too),
    less the little words any sentence has."""
    words: dict[str, set[str]] = {}
    catalog = assistant.understanding.catalog
    for sentence in assistant.skills.sentences:
        bag = words.setdefault(sentence.tool, set())
        bag.update(_words(sentence.expression))
        for name in sentence.slots:
            for form in catalog.specs[sentence.tool][name].values:
                bag.update(form.split())
    return {tool: frozenset(({w for w in bag} | {_stem(w) for w in bag}) - _LITTLE)
            for tool, bag in words.items()}


def _words(node: Sequence | Alternative | Word | SlotRef) -> Iterable[str]:
    for text in word_texts(node):
        yield from numbers_to_digits(sanitize(text)).split()
