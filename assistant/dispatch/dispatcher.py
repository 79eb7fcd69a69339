"""The dispatcher: the only place a decided call becomes an action, and where safety lives.

Whatever tier decided a call, here it is validated by the tool's own model (out of range
is refused with what is allowed, never clamped), checked against its interlocks, held for
a spoken yes when its class is *confirm*, and audited before anything is actuated and
before the reply. If the audit log cannot be written, nothing is actuated, with one
deliberate exception: *immediate* tools (stops) still run, because a stop must never be
blocked by a logging failure; their reply says the audit log failed.

Once audited as executing, an action is never cut: it runs in its own task, shielded from
whoever awaits it, so neither a stop that pre-empts the turn nor a timeout leaves an
``executing`` record without its ``result``.

An action ends done, failed, or unconfirmed: the command reached the controlled system,
which never confirmed it. Unconfirmed is its own outcome in the event, the audit record and
the reply, which says neither that it happened nor that it did not, and what to check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from assistant.dispatch.audit import AuditLog
from assistant.dispatch.catalog import Catalog
from assistant.errors import AuditError, BackendError, UnconfirmedError
from assistant.events import (
    ActionEvent,
    ActionOutcome,
    ConfirmEvent,
    ErrorEvent,
    EventSink,
    RefusedEvent,
)
from assistant.skill_api import Safety, SpeakerContext, Tool

__all__ = ["Dispatcher", "Outcome", "OutcomeKind", "ToolCall"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolCall:
    """A decided call: the tool, its arguments, and the tier that decided it."""

    tool: str
    arguments: Mapping[str, Any]
    route: str = "grammar"


class OutcomeKind(StrEnum):
    ACTED = "acted"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    REFUSED = "refused"
    CONFIRM = "confirm"
    ASK = "ask"


@dataclass(frozen=True)
class Outcome:
    """What the dispatcher did, and what to say."""

    kind: OutcomeKind
    reply: str
    tool: str
    model: BaseModel | None = None
    missing: tuple[str, ...] = ()
    arguments: dict[str, Any] = field(default_factory=dict)


AUDIT_REFUSAL = "I can't write the audit log, so I won't do that."


class Dispatcher:
    """Validates, guards, audits and runs tool calls against the skills' back ends."""

    def __init__(
        self, catalog: Catalog, audit: AuditLog, emit: EventSink, now_ms: Callable[[], float],
        *, speaker: SpeakerContext | None = None,
    ) -> None:
        """``speaker``: the satellite this dispatcher acts for; its name and area are in
        every audit record (a hub has one dispatcher per satellite, one audit log)."""
        self.catalog = catalog
        self.speaker = speaker
        self.audit = audit
        self._emit = emit
        self._now_ms = now_ms
        self._executions: set[asyncio.Task[Outcome]] = set()
        self.executions = 0
        """Actions begun so far (counted as their task is made)."""

    @property
    def executing(self) -> bool:
        """True while an action audited as executing has not reached its result."""
        return any(not task.done() for task in self._executions)

    async def settle(self) -> None:
        """Wait for every executing action to reach its result."""
        while self._executions:
            await asyncio.wait(set(self._executions))

    async def propose(self, call: ToolCall) -> Outcome:
        """Handle a decided call: refuse, ask for what is missing, ask to confirm, or act."""
        tool = self.catalog.tool(call.tool)
        checked = self.catalog.check(call.tool, call.arguments)
        audited = await self._audited("decided", tool=call.tool, arguments=checked.arguments,
                                      route=call.route)
        stop = checked.model is not None and tool.safety_of(checked.model) == Safety.IMMEDIATE
        if not audited and not stop:
            return self._audit_refusal(call.tool)
        if checked.error:
            return await self.refuse(call.tool, checked.error)
        if checked.missing:
            question = self.catalog.specs[call.tool][checked.missing[0]].question
            return Outcome(OutcomeKind.ASK, question, call.tool, missing=checked.missing,
                           arguments=checked.arguments)
        model = checked.model
        if model is None:  # unreachable: no error and nothing missing means a model
            return await self.refuse(call.tool, "That request is not valid.")
        if tool.safety_of(model) == Safety.CONFIRM:
            reason = await self._interlocked(tool, model)
            if reason:
                return await self.refuse(call.tool, reason)
            if not await self._audited("confirm_requested", tool=call.tool,
                                       arguments=checked.arguments):
                return self._audit_refusal(call.tool)
            self._emit(ConfirmEvent(t_ms=self._now_ms(), tool=call.tool,
                                    arguments=checked.arguments))
            readback = tool.readback(model) if tool.readback else tool.description + "."
            return Outcome(OutcomeKind.CONFIRM, f"{readback} Are you sure?", call.tool, model,
                           arguments=checked.arguments)
        return await self.execute(tool, model)

    async def confirmed(self, tool_name: str, model: BaseModel) -> Outcome:
        """Run a confirm-class call after the spoken yes."""
        if not await self._audited("confirmed", tool=tool_name,
                                   arguments=model.model_dump(mode="json")):
            return self._audit_refusal(tool_name)
        return await self.execute(self.catalog.tool(tool_name), model)

    async def cancelled(self, tool_name: str, reason: str) -> bool:
        """Record that a pending confirmation was cancelled; False if not recorded."""
        return await self._audited("cancelled", tool=tool_name, reason=reason)

    async def execute(self, tool: Tool, model: BaseModel) -> Outcome:
        arguments = model.model_dump(mode="json", exclude_none=True)
        reason = await self._interlocked(tool, model)
        if reason:
            return await self.refuse(tool.name, reason)
        task = asyncio.get_running_loop().create_task(
            self._executed(tool, model, arguments), name=f"dispatch-{tool.name}")
        self._executions.add(task)
        self.executions += 1
        task.add_done_callback(self._executions.discard)
        return await asyncio.shield(task)

    async def _executed(self, tool: Tool, model: BaseModel, arguments: dict[str, Any]
                        ) -> Outcome:
        audited = await self._audited("executing", tool=tool.name, arguments=arguments)
        if not audited and tool.safety_of(model) != Safety.IMMEDIATE:
            return self._audit_refusal(tool.name)
        outcome, message = await self._run(tool, model)
        ok = outcome == ActionOutcome.DONE
        recorded = await self._audited("result", tool=tool.name, arguments=arguments, ok=ok,
                                       outcome=outcome, message=message)
        if not (recorded and audited):
            message += " The audit log could not be written."
        self._emit(ActionEvent(t_ms=self._now_ms(), tool=tool.name, arguments=arguments, ok=ok,
                               message=message, outcome=outcome))
        kind = {ActionOutcome.DONE: OutcomeKind.ACTED, ActionOutcome.FAILED: OutcomeKind.FAILED,
                ActionOutcome.UNCONFIRMED: OutcomeKind.UNCONFIRMED}[outcome]
        return Outcome(kind, message, tool.name, model, arguments=arguments)

    async def _run(self, tool: Tool, model: BaseModel) -> tuple[ActionOutcome, str]:
        """The handler's result; a back end that fails is reported, never crashes the loop."""
        try:
            result = await tool.handler(model)
        except UnconfirmedError as err:
            _LOGGER.warning("tool %s unconfirmed: %s", tool.name, err)
            self._emit(ErrorEvent(t_ms=self._now_ms(), code=err.code, message=err.message))
            return ActionOutcome.UNCONFIRMED, f"Sent, but not confirmed: {err.message}."
        except BackendError as err:  # the controlled system said no or did not answer
            _LOGGER.warning("tool %s failed: %s", tool.name, err)
            self._emit(ErrorEvent(t_ms=self._now_ms(), code=err.code,
                                  message=f"{tool.name}: {err}"))
            return ActionOutcome.FAILED, f"That didn't work: {err}."
        except Exception as err:  # a skill's bug: reported with its traceback, never fatal
            _LOGGER.exception("tool %s failed", tool.name)
            self._emit(ErrorEvent(t_ms=self._now_ms(), code="dispatch-tool-failed",
                                  message=f"{tool.name}: {err}"))
            return ActionOutcome.FAILED, f"That didn't work: {err}."
        return (ActionOutcome.DONE if result.ok else ActionOutcome.FAILED), result.message

    async def refuse(self, tool_name: str | None, reason: str) -> Outcome:
        await self._audited("refused", tool=tool_name, reason=reason)
        self._emit(RefusedEvent(t_ms=self._now_ms(), tool=tool_name, reason=reason))
        return Outcome(OutcomeKind.REFUSED, reason, tool_name or "")

    async def _interlocked(self, tool: Tool, model: BaseModel) -> str | None:
        """The reason a condition forbids the call; a condition that cannot be checked (the
        controlled system does not answer) forbids it too."""
        for interlock in tool.interlocks:
            try:
                reason = await interlock.check(model)
            except Exception as err:  # a back end that cannot be asked is not a yes
                _LOGGER.warning("interlock of %s could not be checked: %s", tool.name, err)
                self._emit(ErrorEvent(t_ms=self._now_ms(), code=getattr(err, "code",
                                      "dispatch-interlock-unchecked"), message=str(err)))
                return f"I couldn't check that it is safe: {err}"
            if reason:
                return reason
        return None

    async def record(self, kind: str, **fields: Any) -> bool:
        """Audit what the dialogue decided around a call (a read-back, a choice); False if
        it could not be recorded (said as an error event)."""
        return await self._audited(kind, **fields)

    async def _audited(self, kind: str, **fields: Any) -> bool:
        if self.speaker is not None:
            fields = {**fields, "satellite": self.speaker.satellite, "area": self.speaker.area,
                      "zone": self.speaker.zone}
        try:
            await self.audit.record(kind, **fields)
        except AuditError as err:
            _LOGGER.error("audit log failed: %s", err)
            self._emit(ErrorEvent(t_ms=self._now_ms(), code=err.code, message=err.message))
            return False
        return True

    def _audit_refusal(self, tool_name: str) -> Outcome:
        self._emit(RefusedEvent(t_ms=self._now_ms(), tool=tool_name, reason=AUDIT_REFUSAL))
        return Outcome(OutcomeKind.REFUSED, AUDIT_REFUSAL, tool_name)
