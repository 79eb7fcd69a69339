"""Built-in factory skill: machines, conveyors, stop-all, production counts, maintenance."""

from __future__ import annotations

from pathlib import Path

from assistant.skill_api import Skill, SkillContext, SkillRuntime
from skills.factory.hooks import check_config, diagnose, simulate
from skills.factory.plant import (
    PlantBackend,
    PlantConfig,
    SimulatedPlant,
    load_plant,
    plant_of,
)
from skills.factory.settings import FactorySettings
from skills.factory.tools import factory_tools

__all__ = ["FactorySettings", "PlantBackend", "PlantConfig", "SimulatedPlant", "load_plant",
           "skill"]


def _create(context: SkillContext) -> SkillRuntime:
    config = plant_of(context.config)
    plant: PlantBackend
    bus = context.config.get("modbus")
    if context.connect and bus and context.config.get("backend", "modbus") == "modbus":
        from skills.factory.modbus import ModbusPlant

        plant = ModbusPlant(config, str(bus.get("host", "127.0.0.1")), int(bus.get("port", 502)),
                            timeout_s=float(bus.get("timeout_s", 1.0)))
    else:
        plant = SimulatedPlant(config)
    return SkillRuntime(tools=factory_tools(plant, config), lists=config.lists(), backend=plant)


skill = Skill(name="factory", templates=Path(__file__).with_name("templates.yaml"), create=_create,
              settings=FactorySettings, simulate=simulate, diagnose=diagnose,
              check_config=check_config)
