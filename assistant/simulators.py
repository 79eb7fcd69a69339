"""The simulated plant and car behind the real buses: the PLC simulator (a pymodbus server on
loopback) and the body controller (on the configured CAN channel), started when the
configuration asks for them, for as long as a session runs."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Simulators", "simulated_buses"]


@dataclass
class Simulators:
    """What runs behind the buses, and the skill configurations that reach it."""

    configs: dict[str, dict[str, Any]]
    plant: Any = None
    """The PLC simulator's plant (a ``SimulatedPlant``), when it runs."""
    car: Any = None
    """The body controller's car (a ``SimulatedVehicle``), when it runs."""
    running: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def simulated_buses(configs: Mapping[str, Mapping[str, Any]]) -> AsyncIterator[Simulators]:
    """Start the simulators that ``configs`` (the skills' configurations) ask for; a PLC
    simulator asked for port 0 gets a free one, and the factory skill is told which."""
    resolved: dict[str, dict[str, Any]] = copy.deepcopy({k: dict(v) for k, v in configs.items()})
    simulators = Simulators(resolved)
    async with contextlib.AsyncExitStack() as stack:
        modbus = resolved.get("factory", {}).get("modbus")
        if modbus and modbus.get("simulate_plc"):
            from skills.factory.modbus import PlcSimulator
            from skills.factory.plant import SimulatedPlant, plant_of

            plant = SimulatedPlant(plant_of(resolved["factory"]))
            plc = PlcSimulator(plant, host=str(modbus.get("host", "127.0.0.1")),
                               port=int(modbus.get("port", 0)))
            await plc.start()
            stack.push_async_callback(plc.stop)
            modbus["port"] = plc.port
            simulators.plant = plant
            simulators.running.append(f"PLC simulator on {modbus['host']}:{plc.port}")
        vehicle = resolved.get("vehicle", {})
        can_config = vehicle.get("can")
        if can_config and can_config.get("simulate_body_controller"):
            from skills.vehicle.backend import SimulatedVehicle
            from skills.vehicle.can_bus import BodyController, open_bus

            car = SimulatedVehicle(speed=float(vehicle.get("speed_kmh", 0.0)))
            bus = open_bus(str(can_config.get("interface", "virtual")),
                           str(can_config.get("channel", "vehicle")))
            stack.callback(bus.shutdown)
            controller = BodyController(car, bus)
            await controller.start()
            stack.push_async_callback(controller.stop)
            simulators.car = car
            simulators.running.append(f"body controller on CAN {can_config['interface']} "
                                      f"{can_config['channel']}")
        yield simulators
