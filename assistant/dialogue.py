"""The dialogue manager, shared by ``assistant chat`` and the voice pipeline.

It holds at most one pending exchange: a confirmation (runs only after a yes within
``confirm_seconds``; anything else, or silence, cancels it and says so) or a question for a
missing argument ("Which window?"). A stop (an immediate tool) is recognized before
anything pending looks at the utterance: it runs at once, and only then is the pending
confirmation cancelled or the question dropped. "Stop all" is never the answer to "Which
window?", nor "emergency stop" the text of a note.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from assistant.dispatch.caution import Doubt, DoubtKind, doubt
from assistant.dispatch.dispatcher import Dispatcher, Outcome, OutcomeKind, ToolCall
from assistant.dispatch.speaker import SpeakerContext, in_speakers_context
from assistant.events import (
    CancelledEvent,
    ClarifyEvent,
    Event,
    EventSink,
    IntentEvent,
    ReplyEvent,
    TurnEvents,
)
from assistant.nlu.acts import DialogueAct
from assistant.nlu.normalize import normalize
from assistant.nlu.understand import Decision, Route, Understanding
from assistant.skill_api import Safety
from assistant.stt import Transcript

__all__ = ["CONFIRM_SECONDS", "Dialogue", "TurnResult"]

CONFIRM_SECONDS = 8.0
"""Seconds a confirmation waits for a spoken yes."""
_ASK_ATTEMPTS = 2
NOT_UNDERSTOOD = "Sorry, I can't do that."
QUESTION_DROPPED = "The earlier request was cancelled."


@dataclass(frozen=True)
class TurnResult:
    """What one utterance led to: the reply to speak and the events on the way (intent,
    confirmation, action, reply ...), in order."""

    reply: str
    events: tuple[Event, ...] = ()


@dataclass
class _Confirmation:
    tool: str
    model: BaseModel | None
    question: str
    deadline: float
    call: ToolCall | None = None
    """A read-back: the call proposed to the dispatcher after the yes."""


@dataclass
class _Choice:
    """"Lock the doors, or unlock the doors?": the answer picks one reading, or none."""

    options: tuple[Decision, ...]
    sentences: tuple[str, ...]
    question: str
    deadline: float


@dataclass
class _Question:
    tool: str
    arguments: dict[str, Any]
    missing: str
    question: str
    route: str
    attempts: int = 1


class Dialogue:
    """Turns utterances into replies through understanding and the dispatcher."""

    def __init__(
        self,
        understanding: Understanding,
        dispatcher: Dispatcher,
        emit: EventSink,
        *,
        now_ms: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
        confirm_seconds: float = CONFIRM_SECONDS,
        speaker: SpeakerContext | None = None,
    ) -> None:
        """``speaker``: where this dialogue's requests are spoken (a satellite's area and
        zone), the default of the arguments that take it (:mod:`assistant.dispatch.speaker`).
        One dialogue per satellite: an answer belongs to the one that asked."""
        self.understanding = understanding
        self.speaker = speaker
        self.dispatcher = dispatcher
        # the dispatcher's events count in a turn's result when it shares this sink
        self._events = emit if isinstance(emit, TurnEvents) else TurnEvents(emit)
        self._emit: EventSink = self._events
        self._now_ms = now_ms
        self._clock = clock
        self.confirm_seconds = confirm_seconds
        self._pending: _Confirmation | _Question | _Choice | None = None
        self.last_reply = ""

    @property
    def awaiting(self) -> bool:
        """True while an answer is expected (listen again without the wake word)."""
        return self._pending is not None

    @property
    def deadline(self) -> float | None:
        """Clock time at which a pending confirmation expires, if one is pending."""
        pending = self._pending
        return pending.deadline if isinstance(pending, _Confirmation | _Choice) else None

    async def expire(self, now: float | None = None) -> str | None:
        """Cancel a confirmation whose time is up (at ``now``, clock time; default the
        clock's); returns the reply, if anything expired."""
        pending = self._pending
        now = self._clock() if now is None else now
        if isinstance(pending, _Confirmation | _Choice) and now >= pending.deadline:
            self._pending = None
            return self._say(await self._cancel(pending, "no answer in time"))
        return None

    async def end(self) -> str | None:
        """The conversation ended (input closed): a pending confirmation is cancelled and
        said; a pending question is dropped quietly."""
        return await self._no_answer(say_dropped_question=False)

    async def silence(self) -> str | None:
        """Nobody answered: a confirmation is cancelled, a question is dropped; both said."""
        return await self._no_answer(say_dropped_question=True)

    async def abandon(self, reason: str) -> str | None:
        """This dialogue is replaced (the skills were reloaded): a pending confirmation is
        cancelled for ``reason`` and said, never carried over; a question is dropped."""
        pending = self._pending
        self._pending = None
        if isinstance(pending, _Confirmation | _Choice):
            return self._say(await self._cancel(pending, reason))
        return None

    async def _no_answer(self, *, say_dropped_question: bool) -> str | None:
        pending = self._pending
        self._pending = None
        if isinstance(pending, _Confirmation | _Choice):
            return self._say(await self._cancel(pending, "no answer"))
        if isinstance(pending, _Question) and say_dropped_question:
            return self._say("I didn't hear an answer, so I've cancelled that.")
        return None

    async def hear(self, text: str, *, heard: Transcript | None = None,
                   said_at: float | None = None) -> TurnResult:
        """Handle one utterance; returns the reply (also emitted) and the turn's events.
        ``heard``: the utterance came from speech, with the recognizer's doubts
        (:mod:`assistant.dispatch.caution`). ``said_at``: when the speaker finished (clock
        time): a yes said within the confirmation's window counts, however long the
        recognizer then took."""
        with self._events.turn() as events:
            prefix = await self.expire(said_at) or ""
            reply = await self._respond(text, heard)
        return TurnResult(f"{prefix} {reply}".strip() if prefix else reply, tuple(events))

    async def _respond(self, text: str, heard: Transcript | None) -> str:
        act = self.understanding.analyze(text).act
        decision = self._in_context(self.understanding.decide(text, spoken=heard is not None)) \
            if act is None else None
        if decision is not None and self._is_immediate(decision):
            return await self._stop_first(decision)
        pending = self._pending
        if isinstance(pending, _Confirmation):
            return await self._while_confirming(pending, act, decision, heard)
        if isinstance(pending, _Choice):
            return await self._while_choosing(pending, act, text, decision)
        if isinstance(pending, _Question):
            return await self._while_asking(pending, act, text, decision, heard)
        if decision is None:
            return self._say(self._act_alone(act))
        return await self._unless_doubted(await self._refined(decision), heard)

    async def _refined(self, decision: Decision) -> Decision:
        return self._in_context(await self.understanding.refine(decision))

    def _in_context(self, decision: Decision) -> Decision:
        """The decision with the speaker's values for what it leaves out (or says as "my")."""
        if self.speaker is None or decision.tool is None:
            return decision
        specs = self.dispatcher.catalog.specs[decision.tool]
        said = decision.normalized.digits or normalize(decision.text).digits
        arguments = in_speakers_context(specs, decision.arguments, said, self.speaker)
        if arguments == decision.arguments:
            return decision
        specs_missing = (name for name, spec in specs.items()
                         if spec.required and name not in arguments)
        missing = tuple(dict.fromkeys((*[n for n in decision.missing if n not in arguments],
                                       *specs_missing)))
        return replace(decision, arguments=arguments, missing=missing)

    async def _unless_doubted(self, decision: Decision, heard: Transcript | None, *,
                              speak: bool = True) -> str:
        """A request runs, unless it came from speech that may not be what was said: then
        the assistant asks first. Answers to its questions are checked the same way. Words
        that two skills' sentences fit equally are asked about too ("Turn on the
        headlights, or turn on the shop lights?"); a stop among them was decided already."""
        if decision.tool is None and len(decision.choices) > 1:
            which = Doubt(DoubtKind.CHOOSE, str(decision.error), decision.choices[:2])
            return await self._doubted(which, speak=speak)
        if heard is not None:
            found = doubt(decision, heard, self.understanding, self.dispatcher.catalog)
            if found is not None:
                return await self._doubted(found, speak=speak)
        return await self._new_request(decision, speak=speak)

    async def _doubted(self, found: Doubt, *, speak: bool = True) -> str:
        """A stop among the readings runs; otherwise ask before anything runs."""
        if found.kind == DoubtKind.STOP:
            return await self._stop_first(found.options[0], speak=speak)
        first = found.options[0]
        assert first.tool is not None
        sentences = tuple(self.understanding.read_back.sentence(str(o.tool), o.arguments)
                          for o in found.options)
        if found.kind == DoubtKind.CHOOSE:
            question = f"{sentences[0][:1].upper()}{sentences[0][1:]}, or {sentences[1]}?"
        else:
            question = f"{sentences[0][:1].upper()}{sentences[0][1:]}?"
        options = [{"tool": o.tool, "arguments": o.arguments} for o in found.options]
        recorded = await self.dispatcher.record(
            f"{found.kind}_asked", tool=first.tool, arguments=first.arguments,
            reason=found.reason, options=options)
        if not recorded:
            return self._say("I can't write the audit log, so I won't do that.")
        self._emit(ClarifyEvent(t_ms=self._now_ms(), kind=str(found.kind), tool=first.tool,
                                arguments=first.arguments, reason=found.reason,
                                options=options))
        deadline = self._clock() + self.confirm_seconds
        if found.kind == DoubtKind.CHOOSE:
            self._pending = _Choice(found.options, sentences, question, deadline)
        else:
            self._pending = _Confirmation(first.tool, None, question, deadline,
                                          ToolCall(first.tool, first.arguments,
                                                   str(first.route)))
        return self._say(question) if speak else question

    async def _while_choosing(self, pending: _Choice, act: DialogueAct | None, text: str,
                              decision: Decision | None) -> str:
        if act == DialogueAct.REPEAT:
            pending.deadline = self._clock() + self.confirm_seconds
            return self._say(pending.question)
        self._pending = None
        picked = self._picked(pending, text, decision) if act is None else None
        if picked is None:
            return self._say(await self._cancel(pending, "no clear answer"))
        return await self._new_request(picked)

    def _picked(self, pending: _Choice, text: str, decision: Decision | None
                ) -> Decision | None:
        """The reading the answer names: the same call, or the words only it has
        ("unlock")."""
        for option in pending.options:
            if decision is not None and (decision.tool, decision.arguments) == \
                    (option.tool, option.arguments):
                return option
        said = set(self.understanding.analyze(text).normalized.digits.split())
        words = [set(normalize(s).digits.split()) for s in pending.sentences]
        named = [option for i, option in enumerate(pending.options)
                 if said & (words[i] - set().union(*(w for j, w in enumerate(words) if j != i)))]
        return named[0] if len(named) == 1 else None

    async def _stop_first(self, decision: Decision, *, speak: bool = True) -> str:
        """A stop runs before whatever was pending is cancelled or dropped."""
        pending, self._pending = self._pending, None
        reply = await self._new_request(decision, speak=False)
        if isinstance(pending, _Confirmation):
            reply = f"{reply} {await self._cancel(pending, 'a stop')}"
        elif isinstance(pending, _Question):
            reply = f"{reply} {QUESTION_DROPPED}"
        return self._say(reply) if speak else reply

    async def _while_confirming(
        self, pending: _Confirmation, act: DialogueAct | None, decision: Decision | None,
        heard: Transcript | None,
    ) -> str:
        if act == DialogueAct.YES:
            self._pending = None
            if pending.call is not None:
                return self._say(self._after(await self.dispatcher.propose(pending.call),
                                             pending.call.route))
            assert pending.model is not None
            return self._say((await self.dispatcher.confirmed(pending.tool, pending.model)).reply)
        if act == DialogueAct.REPEAT:
            pending.deadline = self._clock() + self.confirm_seconds
            return self._say(pending.question)
        self._pending = None
        if decision is None:
            return self._say(await self._cancel(pending, f"answered {act}"))
        cancelled = await self._cancel(pending, "another request")
        reply = await self._unless_doubted(await self._refined(decision), heard, speak=False)
        return self._say(f"{cancelled} {reply}")

    async def _while_asking(self, pending: _Question, act: DialogueAct | None, text: str,
                            decision: Decision | None, heard: Transcript | None) -> str:
        if act in (DialogueAct.CANCEL, DialogueAct.NO, DialogueAct.STOP_TALKING):
            self._pending = None
            return self._say("Okay, cancelled.")
        if act == DialogueAct.REPEAT:
            return self._say(pending.question)
        value = self.understanding.fill(pending.tool, pending.missing, text)
        if value is not None:
            self._pending = None
            arguments = {**pending.arguments, pending.missing: value}
            if heard is not None:  # "Where to?" answered by a mishearing is no destination
                filled = Decision(text, pending.tool, arguments, Route(pending.route), 0.0)
                found = doubt(filled, heard, self.understanding, self.dispatcher.catalog)
                if found is not None:
                    return await self._doubted(found)
            outcome = await self.dispatcher.propose(ToolCall(pending.tool, arguments,
                                                             pending.route))
            return self._say(self._after(outcome, pending.route))
        decision = await self._refined(
            decision or self.understanding.decide(text, spoken=heard is not None))
        if decision.tool is not None:
            self._pending = None
            return await self._unless_doubted(decision, heard)
        if pending.attempts >= _ASK_ATTEMPTS:
            self._pending = None
            return self._say("I didn't get that, so I've cancelled it.")
        pending.attempts += 1
        return self._say(f"Sorry. {pending.question}")

    async def _new_request(self, decision: Decision, *, speak: bool = True) -> str:
        self._emit(IntentEvent(t_ms=self._now_ms(), tool=decision.tool,
                               arguments=decision.arguments, route=str(decision.route)))
        if decision.tool is None:
            reply = NOT_UNDERSTOOD
        else:
            outcome = await self.dispatcher.propose(
                ToolCall(decision.tool, decision.arguments, str(decision.route)))
            reply = self._after(outcome, str(decision.route))
        return self._say(reply) if speak else reply

    def _after(self, outcome: Outcome, route: str) -> str:
        if outcome.kind == OutcomeKind.CONFIRM and outcome.model is not None:
            self._pending = _Confirmation(outcome.tool, outcome.model, outcome.reply,
                                          self._clock() + self.confirm_seconds)
        elif outcome.kind == OutcomeKind.ASK:
            self._pending = _Question(outcome.tool, dict(outcome.arguments), outcome.missing[0],
                                      outcome.reply, route)
        return outcome.reply

    def _is_immediate(self, decision: Decision) -> bool:
        if decision.tool is None or decision.error or decision.missing:
            return False
        return self.understanding.safety(decision) == Safety.IMMEDIATE

    async def _cancel(self, pending: _Confirmation | _Choice, reason: str) -> str:
        if isinstance(pending, _Choice):
            tool = str(pending.options[0].tool)
            action = " or ".join(pending.sentences)
        else:
            tool = pending.tool
            action = pending.question.removesuffix(" Are you sure?").rstrip(".?")
        self._emit(CancelledEvent(t_ms=self._now_ms(), tool=tool, reason=reason))
        await self.dispatcher.cancelled(tool, reason)
        return f"Cancelled: {action[:1].lower()}{action[1:]} was not done."

    def _act_alone(self, act: DialogueAct | None) -> str:
        if act == DialogueAct.REPEAT:
            return self.last_reply or "I haven't said anything yet."
        if act in (DialogueAct.YES, DialogueAct.NO):
            return "There's nothing to confirm."
        if act == DialogueAct.CANCEL:
            return "There's nothing to cancel."
        return "Okay."

    def _say(self, text: str) -> str:
        self.last_reply = text
        self._emit(ReplyEvent(t_ms=self._now_ms(), text=text))
        return text
