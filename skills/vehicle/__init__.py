"""Built-in vehicle skill: climate, windows, locks, navigation, media, lights, status."""

from __future__ import annotations

from pathlib import Path

from assistant.skill_api import Skill, SkillContext, SkillRuntime
from skills.vehicle.backend import SimulatedVehicle, VehicleBackend
from skills.vehicle.hooks import check_config, diagnose, simulate
from skills.vehicle.tools import vehicle_tools

__all__ = ["SimulatedVehicle", "VehicleBackend", "skill"]


def _create(context: SkillContext) -> SkillRuntime:
    bus = context.config.get("can")
    car: VehicleBackend
    if bus:
        from skills.vehicle.can_bus import CanVehicle, open_bus

        car = CanVehicle(open_bus(str(bus.get("interface", "virtual")),
                                  str(bus.get("channel", "vehicle"))),
                         timeout_s=float(bus.get("timeout_s", 0.5)))
    else:
        car = SimulatedVehicle(speed=float(context.config.get("speed_kmh", 0.0)))
    return SkillRuntime(tools=vehicle_tools(car), backend=car)


skill = Skill(name="vehicle", templates=Path(__file__).with_name("templates.yaml"), create=_create,
              simulate=simulate, diagnose=diagnose, check_config=check_config)
