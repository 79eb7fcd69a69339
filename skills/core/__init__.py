"""Built-in core skill: timers and the time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from assistant.skill_api import (
    NoArguments,
    Skill,
    SkillContext,
    SkillRuntime,
    Slot,
    SlotKind,
    ToolResult,
    tool,
)
from skills.core.timers import TimerService, spoken_duration

__all__ = ["TimerService", "skill"]


class SetTimer(BaseModel):
    model_config = ConfigDict(frozen=True)
    seconds: Annotated[int, Field(ge=1, le=86400), Slot(
        kind=SlotKind.DURATION, label="timer", unit="seconds",
        question="For how long?")]


def _create(context: SkillContext) -> SkillRuntime:
    timers = TimerService(notify=context.notify)

    async def set_timer(a: SetTimer) -> ToolResult:
        rings_at = timers.start_timer(a.seconds)
        return ToolResult(True, f"Timer set for {spoken_duration(a.seconds)}; "
                                f"it rings at {rings_at:%H:%M:%S}.")

    async def cancel_timer(_: NoArguments) -> ToolResult:
        cancelled = timers.cancel_all()
        if cancelled == 0:
            return ToolResult(True, "There was no timer running.")
        return ToolResult(True, "Timer cancelled." if cancelled == 1 else
                          f"{cancelled} timers cancelled.")

    async def get_time(_: NoArguments) -> ToolResult:
        return ToolResult(True, f"It's {datetime.now():%H:%M}.")

    return SkillRuntime(
        tools=(
            tool("set_timer", SetTimer, set_timer, description="Start a countdown timer"),
            tool("cancel_timer", NoArguments, cancel_timer, description="Cancel the timers"),
            tool("get_time", NoArguments, get_time, description="Say the time", changes=False),
        ),
        backend=timers,
    )


skill = Skill(name="core", templates=Path(__file__).with_name("templates.yaml"), create=_create)
