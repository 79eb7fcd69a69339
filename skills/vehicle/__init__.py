"""Built-in vehicle skill: climate, windows, locks, navigation, media, lights, status."""

from __future__ import annotations

from pathlib import Path

from assistant.skill_api import Skill, SkillContext, SkillRuntime
from skills.vehicle.backend import SimulatedVehicle, VehicleBackend
from skills.vehicle.hooks import check_config, diagnose, simulate
from skills.vehicle.settings import VehicleSettings
from skills.vehicle.tools import vehicle_tools

__all__ = ["SimulatedVehicle", "VehicleBackend", "VehicleSettings", "skill"]


def _create(context: SkillContext) -> SkillRuntime:
    settings = context.settings
    if not isinstance(settings, VehicleSettings):
        settings = VehicleSettings.model_validate(context.config)
    car: VehicleBackend
    if context.connect and settings.backend == "can":
        from skills.vehicle.can_bus import CanVehicle, open_bus

        car = CanVehicle(open_bus(settings.can.interface, settings.can.channel),
                         timeout_s=settings.can.timeout_s)
    else:
        car = SimulatedVehicle(speed=settings.speed_kmh)
    return SkillRuntime(tools=vehicle_tools(car), backend=car)


skill = Skill(name="vehicle", templates=Path(__file__).with_name("templates.yaml"), create=_create,
              settings=VehicleSettings, simulate=simulate, diagnose=diagnose,
              check_config=check_config)
