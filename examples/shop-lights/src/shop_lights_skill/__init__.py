"""Shop lights and horn: a third-party skill for the offline voice assistant.

Lights switched by zone and a horn test, over a lights controller's TCP line protocol
(:mod:`shop_lights_skill.controller`), with a simulated controller for the demo and tests.
``skill`` is what the ``assistant.skills`` entry point names.
"""

from __future__ import annotations

from pathlib import Path

from assistant.skill_api import Skill, SkillContext, SkillRuntime

from shop_lights_skill.controller import LightsBackend, LightsController
from shop_lights_skill.hooks import check_config, diagnose, simulate
from shop_lights_skill.settings import ShopLightsSettings, ZoneSettings
from shop_lights_skill.simulator import ControllerSimulator, SimulatedShop
from shop_lights_skill.tools import shop_lights_tools

__all__ = ["ControllerSimulator", "LightsBackend", "LightsController", "ShopLightsSettings",
           "SimulatedShop", "ZoneSettings", "skill"]


def _create(context: SkillContext) -> SkillRuntime:
    settings = context.settings
    if not isinstance(settings, ShopLightsSettings):
        settings = ShopLightsSettings.model_validate(context.config)
    controller = LightsController(settings.host, settings.port, timeout_s=settings.timeout_s)
    zones = settings.zone_names()
    return SkillRuntime(tools=shop_lights_tools(controller, zones), lists={"zones": zones},
                        backend=controller)


skill = Skill(name="shop_lights", templates=Path(__file__).with_name("templates.yaml"),
              create=_create, settings=ShopLightsSettings, simulate=simulate,
              diagnose=diagnose, check_config=check_config)
