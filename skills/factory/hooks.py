"""The factory skill's optional hooks: the PLC simulator behind its Modbus bus, its line in
``assistant doctor`` (does the PLC answer), and the checks of its configuration (does the
plant parse, do the lines name machines that exist)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from assistant.errors import AssistantError
from assistant.skill_api import ConfigProblem, Finding, Simulation
from skills.factory.plant import SimulatedPlant, plant_of

__all__ = ["check_config", "diagnose", "simulate"]

_BUS_FIX = ("check factory.modbus host and port, that the PLC is on and the network between "
            "allows TCP to it")


@contextlib.asynccontextmanager
async def simulate(config: Mapping[str, Any]) -> AsyncIterator[Simulation | None]:
    """The PLC simulator on the configured host and port, when ``modbus.simulate_plc`` asks
    for it; port 0 gets a free one, written into the configuration the skill is built from."""
    modbus = config.get("modbus")
    if not (modbus and modbus.get("simulate_plc")):
        yield None
        return
    from skills.factory.modbus import PlcSimulator

    plant = SimulatedPlant(plant_of(config))
    host = str(modbus.get("host", "127.0.0.1"))
    plc = PlcSimulator(plant, host=host, port=int(modbus.get("port", 0)))
    await plc.start()
    try:
        yield Simulation(config={**config, "modbus": {**modbus, "port": plc.port}},
                         description=f"PLC simulator on {host}:{plc.port}", simulated=plant)
    finally:
        await plc.stop()


async def diagnose(config: Mapping[str, Any]) -> list[Finding]:
    """Whether the PLC answers over Modbus (nothing to check without a bus)."""
    modbus = config.get("modbus")
    if not modbus:
        return []
    from skills.factory.modbus import ModbusPlant

    plant = ModbusPlant(plant_of(config), str(modbus.get("host", "127.0.0.1")),
                        int(modbus.get("port", 502)), timeout_s=float(modbus.get("timeout_s", 1.0)))
    try:
        latched = await plant.stop_all_latched()
    except AssistantError as err:
        return [Finding(False, "modbus", err.message, _BUS_FIX)]
    finally:
        await plant.close()
    simulated = "simulated, " if modbus.get("simulate_plc") else ""
    return [Finding(True, "modbus", f"{simulated}PLC at {plant.where} answers; stop-all "
                    f"{'LATCHED' if latched else 'clear'}")]


def check_config(config: Mapping[str, Any]) -> list[ConfigProblem]:
    """The plant definition and the Modbus port, as the configuration file names them."""
    problems: list[ConfigProblem] = []
    try:
        plant = plant_of(config)
    except AssistantError as err:
        problems.append(ConfigProblem("plant_file" if config.get("plant_file") else "machines",
                                      err.message))
    else:
        for ident, line in plant.lines.items():
            problems += [ConfigProblem(f"lines.{ident}.machines", f"unknown machine "
                                       f"{machine!r}; machines: {', '.join(plant.machines)}")
                         for machine in line.machines if machine not in plant.machines]
    modbus = config.get("modbus")
    if modbus and int(modbus.get("port", 502)) == 0 and not modbus.get("simulate_plc"):
        problems.append(ConfigProblem("modbus.port", "port 0 (any free port) only works with "
                                      "simulate_plc = true; give the PLC's port (usually 502)"))
    return problems
