"""The plant as the factory skill sees it, its configuration, and a simulator with state.

The simulator's stop-all latch can only be cleared by :meth:`SimulatedPlant.reset_at_plant`,
which no tool calls: resetting is done by a person at the plant. Its ``fault`` plays the
bus failures a real controller has, as the Modbus client reports them: ``DOWN``, nothing
answers and nothing happens; ``NO_ACK``, commands are carried out but never confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import BaseModel, Field, ValidationError

from assistant.skill_api import BackendError, BusFault, SkillLoadError, UnconfirmedError

__all__ = [
    "DEFAULT_PLANT",
    "BusFault",
    "MachineState",
    "MaintenanceNote",
    "PlantBackend",
    "PlantConfig",
    "SimulatedPlant",
    "load_plant",
    "plant_of",
]

DEFAULT_PLANT = Path(__file__).with_name("plant.yaml")


class NamedThing(BaseModel):
    names: list[str] = Field(default_factory=list)


class LineConfig(NamedThing):
    machines: list[str] = Field(default_factory=list)


class PlantConfig(BaseModel):
    """Ids and spoken names of a plant's machines, conveyors and lines."""

    machines: dict[str, NamedThing]
    conveyors: dict[str, NamedThing] = Field(default_factory=dict)
    lines: dict[str, LineConfig] = Field(default_factory=dict)

    def spoken_name(self, ident: str) -> str:
        for group in (self.machines, self.conveyors, self.lines):
            if ident in group and group[ident].names:
                return group[ident].names[0]
        return ident.replace("_", " ")

    def lists(self) -> dict[str, dict[str, tuple[str, ...]]]:
        return {
            "machines": {k: tuple(v.names) for k, v in self.machines.items()},
            "conveyors": {k: tuple(v.names) for k, v in self.conveyors.items()},
            "lines": {k: tuple(v.names) for k, v in self.lines.items()},
        }


def load_plant(source: Path | Mapping[str, Any] | None = None) -> PlantConfig:
    """The plant from a YAML file or a mapping; the demo plant when none is given."""
    where = str(source) if isinstance(source, Path) else "factory configuration"
    try:
        if source is None or isinstance(source, Path):
            raw = yaml.safe_load((source or DEFAULT_PLANT).read_text(encoding="utf-8"))
        else:
            raw = dict(source)
        return PlantConfig.model_validate(raw)
    except (OSError, yaml.YAMLError) as err:
        raise SkillLoadError("factory-plant-unreadable", f"cannot read plant {where}: {err}") \
            from err
    except ValidationError as err:
        raise SkillLoadError("factory-plant-invalid", f"plant {where} is invalid: {err}") from err


def plant_of(skill_config: Mapping[str, Any]) -> PlantConfig:
    """The plant a factory skill configuration names: its ``plant_file``, else its inline
    ``machines``, ``conveyors`` and ``lines`` (or a ``plant`` mapping of them), else the
    demo plant."""
    plant_file = skill_config.get("plant_file")
    if plant_file:
        return load_plant(Path(plant_file))
    if skill_config.get("machines") is not None:
        return load_plant({key: skill_config[key] for key in ("machines", "conveyors", "lines")
                           if skill_config.get(key) is not None})
    return load_plant(skill_config.get("plant"))


@dataclass(frozen=True)
class MachineState:
    running: bool
    alarm: str | None


@dataclass(frozen=True)
class MaintenanceNote:
    at: datetime
    machine: str
    note: str


class PlantBackend(Protocol):
    """What the factory skill needs from a plant: a simulator now, Modbus later."""

    async def machine_state(self, machine: str) -> MachineState: ...
    async def start_machine(self, machine: str) -> None: ...
    async def stop_machine(self, machine: str) -> None: ...
    async def stop_all(self) -> None: ...
    async def stop_all_latched(self) -> bool: ...
    async def set_conveyor_speed(self, conveyor: str, percent: int) -> None: ...
    async def acknowledge_alarms(self, machine: str | None) -> list[str]: ...
    async def production_count(self, line: str) -> int: ...
    async def log_maintenance_note(self, machine: str, note: str) -> None: ...


@dataclass
class SimulatedPlant:
    """An in-process plant: every machine stopped, no alarms, no latch at start."""

    config: PlantConfig
    running: dict[str, bool] = field(default_factory=dict)
    alarms: dict[str, str] = field(default_factory=dict)
    conveyor_speeds: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[MaintenanceNote] = field(default_factory=list)
    latched: bool = False
    fault: BusFault = BusFault.NONE

    def __post_init__(self) -> None:
        self.running = dict.fromkeys(self.config.machines, False) | self.running
        self.conveyor_speeds = dict.fromkeys(self.config.conveyors, 0) | self.conveyor_speeds
        self.counts = {line: 1200 + 37 * i for i, line in enumerate(self.config.lines)} \
            | self.counts

    def raise_alarm(self, machine: str, reason: str) -> None:
        """A fault at the plant: the machine stops and shows an alarm."""
        self.alarms[machine] = reason
        self.running[machine] = False

    def reset_at_plant(self) -> None:
        """The operator's reset at the plant: the only way to clear a stop-all."""
        self.latched = False

    def _read(self) -> None:
        if self.fault != BusFault.NONE:
            raise BackendError("plant-unreachable", "the simulated plant controller did not "
                               "answer, so nothing was done")

    def _send(self) -> None:
        if self.fault == BusFault.DOWN:
            self._read()

    def _confirm(self) -> None:
        if self.fault == BusFault.NO_ACK:
            raise UnconfirmedError("plant-unconfirmed", "the simulated plant controller "
                                   "stopped answering before it confirmed the command; "
                                   "check at the plant whether it happened")

    async def machine_state(self, machine: str) -> MachineState:
        self._read()
        return MachineState(self.running[machine], self.alarms.get(machine))

    async def start_machine(self, machine: str) -> None:
        self._send()
        if self.latched or machine in self.alarms:
            raise RuntimeError(f"plant refused to start {machine}")
        self.running[machine] = True
        self._confirm()

    async def stop_machine(self, machine: str) -> None:
        self._send()
        self.running[machine] = False
        self._confirm()

    async def stop_all(self) -> None:
        self._send()
        self.latched = True
        self.running = dict.fromkeys(self.running, False)
        self.conveyor_speeds = dict.fromkeys(self.conveyor_speeds, 0)
        self._confirm()

    async def stop_all_latched(self) -> bool:
        self._read()
        return self.latched

    async def set_conveyor_speed(self, conveyor: str, percent: int) -> None:
        self._send()
        if self.latched and percent > 0:
            raise RuntimeError("plant refused: stop-all latched")
        self.conveyor_speeds[conveyor] = percent
        self._confirm()

    async def acknowledge_alarms(self, machine: str | None) -> list[str]:
        self._read()
        cleared = [m for m in self.alarms if machine in (None, m)]
        for name in cleared:
            del self.alarms[name]
        return cleared

    async def production_count(self, line: str) -> int:
        self._read()
        return self.counts[line]

    async def log_maintenance_note(self, machine: str, note: str) -> None:
        self.notes.append(MaintenanceNote(datetime.now(UTC), machine, note))
