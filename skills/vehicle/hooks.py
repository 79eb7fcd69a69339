"""The vehicle skill's optional hooks: the simulated body controller on its CAN bus, its
line in ``assistant doctor`` (does the body controller broadcast), and the check of its
configuration (is the CAN interface one python-can knows)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from assistant.skill_api import AssistantError, ConfigProblem, Finding, Simulation
from skills.vehicle.backend import SimulatedVehicle
from skills.vehicle.settings import CanSettings, VehicleSettings

__all__ = ["check_config", "diagnose", "simulate"]

_BUS_FIX = ("check skills.vehicle.can interface and channel ('ip link show' for socketcan), "
            "and that the body controller is powered")


def _bus(config: Mapping[str, Any]) -> tuple[VehicleSettings, CanSettings | None]:
    """The settings, and the CAN bus when the car is reached over one."""
    settings = VehicleSettings.model_validate(config)
    return settings, settings.can if settings.backend == "can" else None


@contextlib.asynccontextmanager
async def simulate(config: Mapping[str, Any]) -> AsyncIterator[Simulation | None]:
    """The simulated body controller on the configured CAN channel, when
    ``can.simulate_body_controller`` asks for it; the car moves at ``speed_kmh``."""
    settings, can_config = _bus(config)
    if not (can_config and can_config.simulate_body_controller):
        yield None
        return
    from skills.vehicle.can_bus import BodyController, open_bus

    interface, channel = can_config.interface, can_config.channel
    car = SimulatedVehicle(speed=settings.speed_kmh)
    bus = open_bus(interface, channel)
    try:
        controller = BodyController(car, bus)
        await controller.start()
        try:
            yield Simulation(config=config, simulated=car,
                             description=f"body controller on CAN {interface} {channel}")
        finally:
            await controller.stop()
    finally:
        bus.shutdown()


async def diagnose(config: Mapping[str, Any]) -> list[Finding]:
    """Whether the body controller's status frames arrive (nothing to check without a bus)."""
    _, can_config = _bus(config)
    if can_config is None:
        return []
    from skills.vehicle.can_bus import CanVehicle, open_bus

    interface, channel = can_config.interface, can_config.channel
    try:
        car = CanVehicle(open_bus(interface, channel), timeout_s=can_config.timeout_s)
    except AssistantError as err:
        return [Finding(False, "can", err.message, _BUS_FIX)]
    try:
        speed = await car.speed_kmh()
    except AssistantError as err:
        return [Finding(False, "can", err.message, _BUS_FIX)]
    finally:
        await car.aclose()
    simulated = "simulated, " if can_config.simulate_body_controller else ""
    return [Finding(True, "can", f"{simulated}body controller on {interface} {channel} "
                    f"broadcasts status; speed {speed:.0f} km/h")]


def check_config(config: Mapping[str, Any]) -> list[ConfigProblem]:
    """The CAN interface must be one python-can has."""
    _, can_config = _bus(config)
    if can_config is None:
        return []
    import can

    interface = can_config.interface
    interfaces = sorted(can.VALID_INTERFACES)
    if interface in interfaces:
        return []
    return [ConfigProblem("can.interface", f"unknown python-can interface {interface!r}; "
                          f"allowed: {', '.join(interfaces)}")]
