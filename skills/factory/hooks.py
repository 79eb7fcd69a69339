"""The factory skill's optional hooks: the PLC simulator behind its Modbus bus, its line in
``assistant doctor`` (does the PLC answer), and the checks of its configuration (does the
plant parse, do the lines name machines that exist)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from assistant.skill_api import AssistantError, ConfigProblem, Finding, Simulation
from skills.factory.plant import SimulatedPlant, plant_of
from skills.factory.settings import FactorySettings, ModbusSettings

__all__ = ["check_config", "diagnose", "simulate"]

_BUS_FIX = ("check skills.factory.modbus host and port, that the PLC is on and the network "
            "between allows TCP to it")


def _bus(config: Mapping[str, Any]) -> ModbusSettings | None:
    """The Modbus connection, when the plant is reached over one."""
    settings = FactorySettings.model_validate(
        {key: config[key] for key in ("backend", "modbus") if key in config})
    return settings.modbus if settings.backend == "modbus" else None


@contextlib.asynccontextmanager
async def simulate(config: Mapping[str, Any]) -> AsyncIterator[Simulation | None]:
    """The PLC simulator on the configured host and port, when ``modbus.simulate_plc`` asks
    for it; port 0 gets a free one, written into the configuration the skill is built from."""
    modbus = _bus(config)
    if not (modbus and modbus.simulate_plc):
        yield None
        return
    from skills.factory.modbus import PlcSimulator

    plant = SimulatedPlant(plant_of(config))
    host = modbus.host
    plc = PlcSimulator(plant, host=host, port=modbus.port)
    await plc.start()
    try:
        resolved = {**modbus.model_dump(), "port": plc.port}
        yield Simulation(config={**config, "modbus": resolved},
                         description=f"PLC simulator on {host}:{plc.port}", simulated=plant)
    finally:
        await plc.stop()


async def diagnose(config: Mapping[str, Any]) -> list[Finding]:
    """Whether the PLC answers over Modbus (nothing to check without a bus)."""
    modbus = _bus(config)
    if modbus is None:
        return []
    from skills.factory.modbus import ModbusPlant

    plant = ModbusPlant(plant_of(config), modbus.host, modbus.port or 502,
                        timeout_s=modbus.timeout_s)
    try:
        latched = await plant.stop_all_latched()
    except AssistantError as err:
        return [Finding(False, "modbus", err.message, _BUS_FIX)]
    finally:
        await plant.aclose()
    simulated = "simulated, " if modbus.simulate_plc else ""
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
    modbus = _bus(config)
    if modbus and modbus.port == 0 and not modbus.simulate_plc:
        problems.append(ConfigProblem("modbus.port", "port 0 (any free port) only works with "
                                      "simulate_plc = true; give the PLC's port (usually 502)"))
    return problems
