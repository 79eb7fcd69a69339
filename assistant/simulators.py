"""What stands behind the skills' buses in the demo and tests (a PLC simulator, a body
controller), started by the skills' own ``simulate`` hooks when their configurations ask
for it, for as long as a session runs."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.plugins import installed_skills, skill_settings

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
async def simulated_buses(configs: Mapping[str, Mapping[str, Any]],
                          enabled: Collection[str] | None = None) -> AsyncIterator[Simulators]:
    """Start the simulators that the skills' settings (``configs``, each skill's table by
    skill name; a skill without one has its defaults) ask for, through the ``simulate``
    hook of each installed skill among ``enabled`` (none: the skills ``configs`` names); a
    simulator that picks a free port writes it into its skill's configuration."""
    resolved: dict[str, dict[str, Any]] = copy.deepcopy({k: dict(v) for k, v in configs.items()})
    simulators = Simulators(resolved)
    names = set(configs) if enabled is None else enabled
    async with contextlib.AsyncExitStack() as stack:
        for skill in installed_skills(names):
            if skill.settings is not None:
                resolved[skill.name] = skill_settings(skill, resolved.get(skill.name, {}))[1]
            if skill.simulate is None:
                continue
            simulation = await stack.enter_async_context(
                skill.simulate(resolved.setdefault(skill.name, {})))
            if simulation is None:
                continue
            resolved[skill.name] = dict(simulation.config)
            simulators.simulated[skill.name] = simulation.simulated
            simulators.running.append(simulation.description)
        yield simulators
