"""The factory skill's settings: ``[skills.factory]`` (formerly ``[factory]``)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

__all__ = ["FactorySettings", "LineSettings", "MachineSettings", "ModbusSettings"]

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


def _host(value: str) -> str:
    """An IP address or a host name (RFC 1123), as a Modbus client can connect to it."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    labels = value.removesuffix(".").split(".")
    if len(value) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValueError("not an IP address or a host name (letters, digits and hyphens, "
                         "dot-separated, at most 253 characters)")
    return value


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=4096)


class ModbusSettings(_Table):
    host: Annotated[str, AfterValidator(_host)] = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535, description="the PLC's port (usually 502); 0 picks "
                      "a free one, only with simulate_plc")
    timeout_s: float = Field(1.0, gt=0.0, le=10.0)
    simulate_plc: bool = Field(True, description="start the PLC simulator on host:port "
                               "(loopback) and speak to it")


class MachineSettings(_Table):
    names: list[str] = Field(default_factory=list, description="how people say it; the "
                             "first is how the assistant says it")


class LineSettings(MachineSettings):
    machines: list[str] = Field(default_factory=list)


class FactorySettings(_Table):
    plant_file: Path | None = Field(None, description="a plant definition (YAML); or define "
                                    "machines, conveyors and lines here; neither: the demo plant")
    machines: dict[str, MachineSettings] | None = None
    conveyors: dict[str, MachineSettings] | None = None
    lines: dict[str, LineSettings] | None = None
    backend: Literal["modbus", "in_process"] = Field(
        "modbus", description="modbus: the PLC below over Modbus TCP; in_process: a simulated "
        "plant, no bus")
    modbus: ModbusSettings = Field(default_factory=ModbusSettings)

    @model_validator(mode="after")
    def _one_plant(self) -> FactorySettings:
        if self.plant_file is not None and self.machines is not None:
            raise ValueError("give plant_file or machines, not both")
        return self
