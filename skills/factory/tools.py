"""The factory skill's tools, bound to a plant back end and its configuration."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from assistant.skill_api import NoArguments, Safety, Slot, SlotKind, Tool, ToolResult, tool
from skills.factory.plant import PlantBackend, PlantConfig

__all__ = ["factory_tools"]

_MACHINE = Slot(kind=SlotKind.CONFIGURED, list_name="machines", label="machine",
                question="Which machine?", context="zone")
_CONVEYOR = Slot(kind=SlotKind.CONFIGURED, list_name="conveyors", label="conveyor",
                 question="Which conveyor?")
_LINE = Slot(kind=SlotKind.CONFIGURED, list_name="lines", label="line",
             question="Which production line?")


class MachineArguments(BaseModel):
    model_config = ConfigDict(frozen=True)
    machine: Annotated[str, _MACHINE]


class SetConveyorSpeed(BaseModel):
    model_config = ConfigDict(frozen=True)
    conveyor: Annotated[str, _CONVEYOR]
    percent: Annotated[int, Field(ge=0, le=100), Slot(
        label="conveyor speed", unit="percent", question="What speed?",
        aliases={0: ("stop", "stopped", "zero", "off"),
                 100: ("full speed", "full", "maximum", "max", "top speed", "maximum speed"),
                 50: ("half speed", "half")})]


class AcknowledgeAlarm(BaseModel):
    model_config = ConfigDict(frozen=True)
    machine: Annotated[str | None, _MACHINE] = None


class ProductionCount(BaseModel):
    model_config = ConfigDict(frozen=True)
    line: Annotated[str, _LINE]


class MaintenanceNote(BaseModel):
    model_config = ConfigDict(frozen=True)
    machine: Annotated[str, _MACHINE]
    note: Annotated[str, Field(min_length=1, max_length=500,
                               examples=["the belt is worn", "oil leak at the pump"]),
                    Slot(kind=SlotKind.TEXT, label="note", question="What should the note say?")]


NOT_HARDWIRED = "This is not the hard-wired emergency stop: use it if anyone is in danger."


def factory_tools(plant: PlantBackend, config: PlantConfig) -> tuple[Tool, ...]:
    """The factory tools, bound to a plant."""
    name = config.spoken_name

    async def not_latched(_: BaseModel) -> str | None:
        if await plant.stop_all_latched():
            return "A stop-all is latched; it must be reset at the plant first."
        return None

    async def no_alarm(a: MachineArguments) -> str | None:
        state = await plant.machine_state(a.machine)
        if state.alarm:
            return f"{name(a.machine).capitalize()} has an active alarm ({state.alarm}); " \
                   "acknowledge it first."
        return None

    async def conveyor_not_latched(a: SetConveyorSpeed) -> str | None:
        return await not_latched(a) if a.percent > 0 else None

    async def start_machine(a: MachineArguments) -> ToolResult:
        await plant.start_machine(a.machine)
        return ToolResult(True, f"{name(a.machine).capitalize()} started.")

    async def stop_machine(a: MachineArguments) -> ToolResult:
        await plant.stop_machine(a.machine)
        return ToolResult(True, f"{name(a.machine).capitalize()} stopped.")

    async def emergency_stop(_: NoArguments) -> ToolResult:
        await plant.stop_all()
        return ToolResult(True, "Stopping every machine and conveyor. The stop is latched "
                                f"until it is reset at the plant. {NOT_HARDWIRED}")

    async def set_conveyor_speed(a: SetConveyorSpeed) -> ToolResult:
        await plant.set_conveyor_speed(a.conveyor, a.percent)
        if a.percent == 0:
            return ToolResult(True, f"{name(a.conveyor).capitalize()} stopped.")
        return ToolResult(True, f"{name(a.conveyor).capitalize()} at {a.percent} percent.")

    async def get_machine_status(a: MachineArguments) -> ToolResult:
        state = await plant.machine_state(a.machine)
        running = "running" if state.running else "stopped"
        alarm = f", with an active alarm: {state.alarm}" if state.alarm else ", no alarms"
        latched = ", and a stop-all is latched" if await plant.stop_all_latched() else ""
        return ToolResult(True, f"{name(a.machine).capitalize()} is {running}{alarm}{latched}.")

    async def acknowledge_alarm(a: AcknowledgeAlarm) -> ToolResult:
        cleared = await plant.acknowledge_alarms(a.machine)
        if not cleared:
            where = f" on {name(a.machine)}" if a.machine else ""
            return ToolResult(True, f"There is no active alarm{where}.")
        return ToolResult(True, "Acknowledged the alarm on " +
                          ", ".join(name(m) for m in cleared) + ".")

    async def get_production_count(a: ProductionCount) -> ToolResult:
        count = await plant.production_count(a.line)
        return ToolResult(True, f"{name(a.line).capitalize()} has produced {count} units today.")

    async def log_maintenance_note(a: MaintenanceNote) -> ToolResult:
        await plant.log_maintenance_note(a.machine, a.note)
        return ToolResult(True, f"Noted for {name(a.machine)}: {a.note}.")

    return (
        tool("start_machine", MachineArguments, start_machine, description="Start a machine",
             safety=Safety.CONFIRM,
             interlocks=(("stop-all latched", not_latched), ("machine alarm", no_alarm)),
             readback=lambda a: f"Start {name(a.machine)}."),
        tool("stop_machine", MachineArguments, stop_machine, description="Stop a machine",
             safety=Safety.IMMEDIATE),
        tool("emergency_stop", NoArguments, emergency_stop,
             description="Stop every machine and conveyor and latch the stop",
             safety=Safety.IMMEDIATE),
        tool("set_conveyor_speed", SetConveyorSpeed, set_conveyor_speed,
             description="Set a conveyor's speed in percent",
             safety_for=lambda a: Safety.IMMEDIATE if a.percent == 0 else Safety.PLAIN,
             interlocks=(("stop-all latched", conveyor_not_latched),)),
        tool("get_machine_status", MachineArguments, get_machine_status,
             description="Report whether a machine runs and its alarms", changes=False),
        tool("acknowledge_alarm", AcknowledgeAlarm, acknowledge_alarm,
             description="Acknowledge a machine's alarm, or every alarm"),
        tool("get_production_count", ProductionCount, get_production_count,
             description="Report a production line's count today", changes=False),
        tool("log_maintenance_note", MaintenanceNote, log_maintenance_note,
             description="Add a note to a machine's maintenance log"),
    )
