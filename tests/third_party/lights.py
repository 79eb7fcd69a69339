"""A one-tool third-party skill, as a new author writes it first: shop lights in zones
whose names come from its configuration (default hall, office and yard)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict

from assistant.skill_api import Skill, SkillContext, SkillRuntime, Slot, SlotKind, ToolResult, tool

__all__ = ["ZONES", "LightsArguments", "skill"]

ZONES = ("hall", "office", "yard")


class LightsArguments(BaseModel):
    model_config = ConfigDict(frozen=True)
    zone: Annotated[str, Slot(kind=SlotKind.CONFIGURED, list_name="zone", label="zone")]
    lit: Annotated[bool, Slot(label="lights")]


async def _set_lights(arguments: LightsArguments) -> ToolResult:
    state = "on" if arguments.lit else "off"
    return ToolResult(True, f"The {arguments.zone} lights are {state}.")


def _create(context: SkillContext) -> SkillRuntime:
    zones = context.config.get("zones", ZONES)
    return SkillRuntime(
        tools=(tool("set_shop_lights", LightsArguments, _set_lights,
                    description="Switch the lights of one zone of the shop"),),
        lists={"zone": {str(zone): () for zone in zones}})


skill = Skill(name="shop_lights", templates=Path(__file__).with_name("lights.yaml"),
              create=_create)
