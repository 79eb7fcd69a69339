"""What stands behind the skills' buses in the demo and tests (a PLC simulator, a body
controller), started by the skills' own ``simulate`` hooks when their configurations ask
for it, for as long as a session runs."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.plugins import installed_skills

__all__ = ["Simulators", "simulated_buses"]


@dataclass
class Simulators:
    """What runs behind the buses, and the skill configurations that reach it."""

    configs: dict[str, dict[str, Any]]
    simulated: dict[str, object] = field(default_factory=dict)
    """Each simulated system (the factory's plant, the vehicle's car) by skill name."""
    running: list[str] = field(default_factory=list)
    """What runs, one line each, for a person."""


@contextlib.asynccontextmanager
async def simulated_buses(configs: Mapping[str, Mapping[str, Any]]) -> AsyncIterator[Simulators]:
    """Start the simulators that ``configs`` (the skills' configurations by skill name) ask
    for, through the ``simulate`` hook of each installed skill; a simulator that picks a
    free port writes it into its skill's configuration."""
    resolved: dict[str, dict[str, Any]] = copy.deepcopy({k: dict(v) for k, v in configs.items()})
    simulators = Simulators(resolved)
    async with contextlib.AsyncExitStack() as stack:
        # A skill without configuration asks for nothing, so only configured ones are loaded.
        for skill in installed_skills(resolved):
            if skill.simulate is None:
                continue
            simulation = await stack.enter_async_context(skill.simulate(resolved[skill.name]))
            if simulation is None:
                continue
            resolved[skill.name] = dict(simulation.config)
            simulators.simulated[skill.name] = simulation.simulated
            simulators.running.append(simulation.description)
        yield simulators
