"""The built-in skills' optional hooks: each simulator answers its own skill's doctor
check, and nothing is simulated or checked on a bus the configuration does not have."""

from __future__ import annotations

import asyncio

from assistant.testing import AWAIT_LIMIT
from skills.factory import hooks as factory
from skills.factory.plant import SimulatedPlant
from skills.vehicle import hooks as vehicle
from skills.vehicle.backend import SimulatedVehicle


async def test_the_plc_simulator_answers_the_factory_check() -> None:
    config = {"modbus": {"host": "127.0.0.1", "port": 0, "simulate_plc": True}}
    async with factory.simulate(config) as simulation:
        assert simulation is not None and isinstance(simulation.simulated, SimulatedPlant)
        port = simulation.config["modbus"]["port"]
        assert port != 0 and simulation.description.endswith(f":{port}")
        findings = await asyncio.wait_for(factory.diagnose(simulation.config), AWAIT_LIMIT)
    assert [(f.ok, f.area) for f in findings] == [(True, "modbus")]
    assert findings[0].detail.startswith("simulated, PLC at 127.0.0.1:")


async def test_the_body_controller_answers_the_vehicle_check() -> None:
    config = {"speed_kmh": 42.0, "can": {"interface": "virtual", "channel": "hooks-test",
                                         "simulate_body_controller": True}}
    async with vehicle.simulate(config) as simulation:
        assert simulation is not None and isinstance(simulation.simulated, SimulatedVehicle)
        findings = await asyncio.wait_for(vehicle.diagnose(simulation.config), AWAIT_LIMIT)
    assert [(f.ok, f.area) for f in findings] == [(True, "can")]
    assert findings[0].detail.endswith("speed 42 km/h")


async def test_without_a_bus_nothing_is_simulated_or_checked() -> None:
    no_plc, no_can = {"backend": "in_process"}, {"backend": "in_process", "speed_kmh": 10.0}
    async with factory.simulate(no_plc) as plant, vehicle.simulate(no_can) as car:
        assert plant is None and car is None
    assert await factory.diagnose(no_plc) == [] and await vehicle.diagnose(no_can) == []
    assert factory.check_config(no_plc) == [] and vehicle.check_config(no_can) == []
