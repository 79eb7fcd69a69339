"""Built-in vehicle skill: climate, windows, locks, navigation, media, lights, status."""

from __future__ import annotations

from pathlib import Path

from assistant.skill_api import Skill, SkillContext, SkillRuntime
from skills.vehicle.backend import SimulatedVehicle, VehicleBackend
from skills.vehicle.tools import vehicle_tools

__all__ = ["SimulatedVehicle", "VehicleBackend", "skill"]


def _create(context: SkillContext) -> SkillRuntime:
    car = SimulatedVehicle(speed=float(context.config.get("speed_kmh", 0.0)))
    return SkillRuntime(tools=vehicle_tools(car), backend=car)


skill = Skill(name="vehicle", templates=Path(__file__).with_name("templates.yaml"), create=_create)
