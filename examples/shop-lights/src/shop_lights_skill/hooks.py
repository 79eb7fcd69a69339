"""The shop lights skill's optional hooks: the simulated lights controller for the demo and
tests, its line in ``assistant doctor``, and the check of its settings."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from assistant.skill_api import AssistantError, ConfigProblem, Finding, Simulation

from shop_lights_skill.controller import LightsController
from shop_lights_skill.settings import ShopLightsSettings
from shop_lights_skill.simulator import ControllerSimulator, SimulatedShop

__all__ = ["check_config", "diagnose", "simulate"]


@contextlib.asynccontextmanager
async def simulate(config: Mapping[str, Any]) -> AsyncIterator[Simulation | None]:
    """The simulated controller on the configured host and port when ``simulate`` asks for
    it; port 0 gets a free one, written into the settings the skill is built from."""
    settings = ShopLightsSettings.model_validate(config)
    if not settings.simulate:
        yield None
        return
    shop = SimulatedShop.dark(settings.zones)
    simulator = ControllerSimulator(shop, settings.host, settings.port)
    await simulator.start()
    try:
        yield Simulation(config={**config, "port": simulator.port}, simulated=shop,
                         description=f"lights controller simulator on "
                                     f"{settings.host}:{simulator.port}")
    finally:
        await simulator.stop()


async def diagnose(config: Mapping[str, Any]) -> list[Finding]:
    """Whether the lights controller answers: the first zone's state."""
    settings = ShopLightsSettings.model_validate(config)
    controller = LightsController(settings.host, settings.port, timeout_s=settings.timeout_s)
    zone = next(iter(settings.zones))
    try:
        lit = await controller.zone_lit(zone)
    except AssistantError as err:
        return [Finding(False, "shop lights", err.message, "check skills.shop_lights host and "
                        "port, and that the lights controller is on")]
    return [Finding(True, "shop lights", f"the lights controller at {controller.where} "
                    f"answers; {zone} is {'on' if lit else 'off'}")]


def check_config(config: Mapping[str, Any]) -> list[ConfigProblem]:
    """What the settings model cannot say alone: a real controller needs a real port."""
    if int(config.get("port", 0)) == 0 and not config.get("simulate", True):
        return [ConfigProblem("port", "port 0 (any free port) only works with simulate = "
                                      "true; give the lights controller's port")]
    return []
