"""``simulated_buses`` starts what each installed skill's ``simulate`` hook offers, when the
skill's configuration asks for it, and stops it when the session ends."""

from __future__ import annotations

import pytest

from assistant.simulators import simulated_buses
from tests.third_party import SIMULATED_PORT, SimulatedHorn


@pytest.mark.usefixtures("installed_horn")
async def test_a_third_party_simulator_runs_for_the_session_and_resolves_its_config() -> None:
    async with simulated_buses({"horn": {"simulate_horn": True, "port": 0}}) as simulators:
        horn = simulators.simulated["horn"]
        assert isinstance(horn, SimulatedHorn) and horn.powered
        assert simulators.configs["horn"] == {"simulate_horn": True, "port": SIMULATED_PORT}
        assert simulators.running == [f"horn simulator on port {SIMULATED_PORT}"]
    assert not horn.powered


@pytest.mark.usefixtures("installed_horn")
async def test_a_skill_whose_config_does_not_ask_gets_no_simulator() -> None:
    async with simulated_buses({"horn": {"port": 7}}) as simulators:
        assert simulators.simulated == {}
        assert simulators.running == []
        assert simulators.configs == {"horn": {"port": 7}}


async def test_the_callers_configs_are_left_as_they_were() -> None:
    configs = {"factory": {"modbus": {"host": "127.0.0.1", "port": 0, "simulate_plc": True}}}
    async with simulated_buses(configs) as simulators:
        assert simulators.configs["factory"]["modbus"]["port"] != 0
        assert "factory" in simulators.simulated
    assert configs["factory"]["modbus"]["port"] == 0
