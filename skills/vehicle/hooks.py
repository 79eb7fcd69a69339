"""The vehicle skill's optional hooks: the simulated body controller on its CAN bus, its
line in ``assistant doctor`` (does the body controller broadcast), and the check of its
configuration (is the CAN interface one python-can knows)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from assistant.errors import AssistantError
from assistant.skill_api import ConfigProblem, Finding, Simulation
from skills.vehicle.backend import SimulatedVehicle

__all__ = ["check_config", "diagnose", "simulate"]

_BUS_FIX = ("check vehicle.can interface and channel ('ip link show' for socketcan), and that "
            "the body controller is powered")


def _where(can_config: Mapping[str, Any]) -> tuple[str, str]:
    return str(can_config.get("interface", "virtual")), str(can_config.get("channel", "vehicle"))


@contextlib.asynccontextmanager
async def simulate(config: Mapping[str, Any]) -> AsyncIterator[Simulation | None]:
    """The simulated body controller on the configured CAN channel, when
    ``can.simulate_body_controller`` asks for it; the car moves at ``speed_kmh``."""
    can_config = config.get("can")
    if not (can_config and can_config.get("simulate_body_controller")):
        yield None
        return
    from skills.vehicle.can_bus import BodyController, open_bus

    interface, channel = _where(can_config)
    car = SimulatedVehicle(speed=float(config.get("speed_kmh", 0.0)))
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
    can_config = config.get("can")
    if not can_config:
        return []
    from skills.vehicle.can_bus import CanVehicle, open_bus

    interface, channel = _where(can_config)
    try:
        car = CanVehicle(open_bus(interface, channel),
                         timeout_s=float(can_config.get("timeout_s", 0.5)))
    except AssistantError as err:
        return [Finding(False, "can", err.message, _BUS_FIX)]
    try:
        speed = await car.speed_kmh()
    except AssistantError as err:
        return [Finding(False, "can", err.message, _BUS_FIX)]
    finally:
        await car.close()
    simulated = "simulated, " if can_config.get("simulate_body_controller") else ""
    return [Finding(True, "can", f"{simulated}body controller on {interface} {channel} "
                    f"broadcasts status; speed {speed:.0f} km/h")]


def check_config(config: Mapping[str, Any]) -> list[ConfigProblem]:
    """The CAN interface must be one python-can has."""
    can_config = config.get("can")
    if not can_config:
        return []
    import can

    interface = can_config.get("interface", "virtual")
    interfaces = sorted(can.VALID_INTERFACES)
    if interface in interfaces:
        return []
    return [ConfigProblem("can.interface", f"unknown python-can interface {interface!r}; "
                          f"allowed: {', '.join(interfaces)}")]
