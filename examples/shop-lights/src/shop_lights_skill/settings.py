"""The shop lights skill's settings: ``[skills.shop_lights]`` in the assistant's
configuration file, each key overridden by ``ASSISTANT_SKILLS__SHOP_LIGHTS__<KEY>``."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ShopLightsSettings", "ZoneSettings"]

_ZONE_ID = re.compile(r"[a-z][a-z0-9_]*")


class ZoneSettings(BaseModel):
    """One zone of lights: how it is said back, and the other names people call it by."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("", description="how the assistant says it (default: the zone's id)")
    aliases: list[str] = Field(default_factory=list,
                               description="other names for it (\"back yard\")")


def _default_zones() -> dict[str, ZoneSettings]:
    return {"hall": ZoneSettings(aliases=["hallway", "entrance"]),
            "office": ZoneSettings(aliases=["front office"]),
            "yard": ZoneSettings(aliases=["back yard", "loading yard"])}


class ShopLightsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", min_length=1,
                      description="the lights controller's IP address or host name")
    port: int = Field(0, ge=0, le=65535, description="its TCP port; 0 (any free port) only "
                      "with simulate = true")
    timeout_s: float = Field(1.0, gt=0.0, le=10.0,
                             description="how long a command waits for the controller, seconds")
    simulate: bool = Field(True, description="run the simulated lights controller on host and "
                           "port (demo, tests); false for a real one")
    zones: dict[str, ZoneSettings] = Field(
        default_factory=_default_zones, min_length=1,
        description="the zones by id (what the controller calls them), each with its names")

    @field_validator("zones")
    @classmethod
    def _zone_ids_are_words(cls, zones: dict[str, ZoneSettings]) -> dict[str, ZoneSettings]:
        for ident in zones:
            if not _ZONE_ID.fullmatch(ident):
                raise ValueError(f"zone id {ident!r} must be lower-case letters, digits and _ "
                                 "(the controller's name for it); give spoken names as aliases")
        return zones

    def zone_names(self) -> dict[str, tuple[str, ...]]:
        """Each zone's spoken names, the one it is said back by first."""
        return {ident: (zone.name or ident.replace("_", " "), *zone.aliases)
                for ident, zone in self.zones.items()}
