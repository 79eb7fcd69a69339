"""The vehicle skill's settings: ``[skills.vehicle]`` (formerly ``[vehicle]``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CanSettings", "VehicleSettings"]


class CanSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    interface: str = Field("virtual", description="a python-can interface: virtual (in "
                           "process), socketcan (vcan0, can0), ...")
    channel: str = "vehicle"
    timeout_s: float = Field(0.5, gt=0.0, le=5.0, description="how long a command waits for "
                             "the body controller's acknowledgement")
    simulate_body_controller: bool = Field(True, description="run the simulated body "
                                           "controller on this bus (demo, bench, a vcan0 rig)")


class VehicleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    speed_kmh: float = Field(0.0, ge=0.0, le=300.0,
                             description="the simulated car's speed at start")
    backend: Literal["can", "in_process"] = Field(
        "can", description="can: body and climate over the CAN bus below; in_process: a "
        "simulated car, no bus")
    can: CanSettings = Field(default_factory=CanSettings)
