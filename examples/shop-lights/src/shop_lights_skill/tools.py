"""The shop lights skill's tools: lights on and off by zone, whether a zone is lit, and a
horn test that is asked for twice (confirm-class)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated

from assistant.skill_api import Safety, Slot, SlotKind, Tool, ToolResult, spoken_duration, tool
from pydantic import BaseModel, ConfigDict, Field

from shop_lights_skill.controller import LightsBackend

__all__ = ["HornTest", "SetShopLights", "ZoneArguments", "shop_lights_tools"]

_ZONE = Slot(kind=SlotKind.CONFIGURED, list_name="zones", label="zone", question="Which zone?")
"""A zone id; its names come from the settings (``zones``)."""


class SetShopLights(BaseModel):
    model_config = ConfigDict(frozen=True)
    zone: Annotated[str, _ZONE]
    lit: Annotated[bool, Slot(label="lights", question="On or off?")]


class ZoneArguments(BaseModel):
    model_config = ConfigDict(frozen=True)
    zone: Annotated[str, _ZONE]


class HornTest(BaseModel):
    model_config = ConfigDict(frozen=True)
    seconds: Annotated[int, Field(ge=1, le=10), Slot(
        kind=SlotKind.DURATION, label="horn test", unit="seconds",
        question="For how many seconds?")] = 2


def shop_lights_tools(lights: LightsBackend,
                      zones: Mapping[str, Sequence[str]]) -> tuple[Tool, ...]:
    """The tools, bound to ``lights``; ``zones`` gives each zone's spoken names."""

    def name(zone: str) -> str:
        return (zones.get(zone) or [zone])[0]

    async def set_lights(a: SetShopLights) -> ToolResult:
        await lights.set_zone(a.zone, a.lit)
        return ToolResult(True, f"The {name(a.zone)} lights are {'on' if a.lit else 'off'}.")

    async def get_lights(a: ZoneArguments) -> ToolResult:
        lit = await lights.zone_lit(a.zone)
        return ToolResult(True, f"The {name(a.zone)} lights are {'on' if lit else 'off'}.")

    async def horn_test(a: HornTest) -> ToolResult:
        await lights.sound_horn(a.seconds)
        return ToolResult(True, f"The horn sounded for {spoken_duration(a.seconds)}.")

    return (
        tool("set_shop_lights", SetShopLights, set_lights,
             description="Switch the shop lights of a zone on or off"),
        tool("get_shop_lights", ZoneArguments, get_lights,
             description="Say whether a zone's shop lights are on", changes=False),
        tool("test_shop_horn", HornTest, horn_test, description="Sound the shop horn as a test",
             safety=Safety.CONFIRM,
             readback=lambda a: f"Sound the horn for {spoken_duration(a.seconds)}."),
    )
