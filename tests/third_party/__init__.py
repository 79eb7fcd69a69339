"""A skill as a third party would publish it: a horn behind a bus of its own, offering all
three optional hooks. ``installed_horn`` (tests/conftest.py) publishes it through an entry
point, so the assistant finds it exactly as it finds the built-in skills."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.skill_api import (
    ConfigProblem,
    Finding,
    NoArguments,
    Simulation,
    Skill,
    SkillContext,
    SkillRuntime,
    ToolResult,
    tool,
)

__all__ = ["SIMULATED_PORT", "SimulatedHorn", "skill"]

SIMULATED_PORT = 4242
"""The port the simulated horn picks when asked for any free one (port 0)."""


@dataclass
class SimulatedHorn:
    port: int
    powered: bool = True


@contextlib.asynccontextmanager
async def _simulate(config: Mapping[str, Any]) -> AsyncIterator[Simulation | None]:
    if not config.get("simulate_horn"):
        yield None
        return
    horn = SimulatedHorn(port=int(config.get("port", 0)) or SIMULATED_PORT)
    try:
        yield Simulation(config={**config, "port": horn.port}, simulated=horn,
                         description=f"horn simulator on port {horn.port}")
    finally:
        horn.powered = False


async def _diagnose(config: Mapping[str, Any]) -> list[Finding]:
    if config.get("port"):
        return [Finding(True, "horn", f"the horn answers on port {config['port']}")]
    return [Finding(False, "horn", "no horn answers", "wire the horn to the bus")]


def _check_config(config: Mapping[str, Any]) -> list[ConfigProblem]:
    volume = config.get("volume")
    if isinstance(volume, int) and 1 <= volume <= 10:
        return []
    return [ConfigProblem("volume", "the horn needs a volume from 1 to 10")]


def _create(_context: SkillContext) -> SkillRuntime:
    async def honk(_: NoArguments) -> ToolResult:
        return ToolResult(True, "Honk.")

    return SkillRuntime(tools=(tool("honk", NoArguments, honk, description="Sound the horn"),))


skill = Skill(name="horn", templates=Path(__file__).with_name("templates.yaml"), create=_create,
              simulate=_simulate, diagnose=_diagnose, check_config=_check_config)
