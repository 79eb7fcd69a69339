"""A third-party skill whose sentences overlap the vehicle's headlights ("turn on the
lights"), in three variants: as first written (``skill``), resolved by a higher priority
(``prioritized``) and resolved by a required word (``worded``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from assistant.skill_api import Skill, SkillContext, SkillRuntime, ToolResult, tool

__all__ = ["ShopLightsSettings", "prioritized", "skill", "worded"]

_HERE = Path(__file__).parent


class SetShopLights(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    lit: bool


class ShopLightsSettings(BaseModel):
    """What the skill reads from ``[skills.shop_lights]``."""

    host: str = Field("127.0.0.1", description="the lighting controller's address")
    port: int = Field(4840, description="its TCP port")


def _create(_context: SkillContext) -> SkillRuntime:
    async def set_shop_lights(arguments: SetShopLights) -> ToolResult:
        return ToolResult(True, "Shop lights on." if arguments.lit else "Shop lights off.")

    return SkillRuntime(tools=(tool("set_shop_lights", SetShopLights, set_shop_lights,
                                    description="Switch the shop's lights"),))


def _skill(templates: str) -> Skill:
    return Skill(name="shop_lights", templates=_HERE / templates, create=_create,
                 settings=ShopLightsSettings)


skill = _skill("templates.yaml")
prioritized = _skill("prioritized.yaml")
worded = _skill("worded.yaml")
