"""The plant over Modbus TCP: a PLC simulator (a pymodbus server running the plant's
program) and the factory skill's Modbus client.

Register map (unit id 1; machines, conveyors and lines numbered in configuration order):

| table | address | meaning |
|---|---|---|
| coil | 0 + m | run command of machine m: write 1 to start, 0 to stop |
| coil | 100 | stop-all: write 1 to stop every machine and conveyor and latch |
| coil | 200 + m | write 1 to acknowledge machine m's alarm |
| discrete input | 0 + m | machine m is running |
| discrete input | 100 | a stop-all is latched (only a reset at the plant clears it) |
| holding register | 0 + c | conveyor c speed, percent 0-100 |
| input register | 0 + m | machine m's alarm code (0: none; see ``ALARM_CODES``) |
| input register | 100 + 2 l | line l's production count, high word, then low word |

A start refused by the PLC (latched, alarm) answers with Modbus exception 4 (device failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from assistant.skill_api import BackendError, UnconfirmedError
from skills.factory.plant import MachineState, MaintenanceNote, PlantConfig, SimulatedPlant

__all__ = ["ALARM_CODES", "ModbusPlant", "PlcSimulator", "RegisterMap"]

_LOGGER = logging.getLogger(__name__)
UNIT = 1
STOP_ALL_COIL = 100
ACK_COIL = 200
LATCH_INPUT = 100
COUNT_REGISTER = 100
ALARM_CODES = {1: "overheating", 2: "jam", 3: "guard open", 99: "fault"}
_READ_COILS, _READ_INPUTS, _READ_HOLDING, _READ_INPUT_REGISTERS = 1, 2, 3, 4
_WRITE_COILS = {5, 15}
_WRITE_HOLDING = {6, 16}


@dataclass(frozen=True)
class RegisterMap:
    """Where each machine, conveyor and line lives, from the plant configuration."""

    machines: tuple[str, ...]
    conveyors: tuple[str, ...]
    lines: tuple[str, ...]

    @classmethod
    def of(cls, config: PlantConfig) -> RegisterMap:
        return cls(tuple(config.machines), tuple(config.conveyors), tuple(config.lines))


def alarm_code(reason: str) -> int:
    return next((code for code, text in ALARM_CODES.items() if text == reason), 99)


def _pack(bits: Sequence[bool], words: int) -> list[int]:
    packed = [0] * words
    for index, bit in enumerate(bits):
        if bit:
            packed[index // 16] |= 1 << (index % 16)
    return packed


class PlcSimulator:
    """A pymodbus server whose registers are the simulated plant's state."""

    def __init__(self, plant: SimulatedPlant, host: str = "127.0.0.1", port: int = 0) -> None:
        self.plant = plant
        self.map = RegisterMap.of(plant.config)
        self._address = (host, port)
        self._server: ModbusTcpServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        if self._server is None or self._server.transport is None:
            raise RuntimeError("the PLC simulator is not serving")
        transport: Any = self._server.transport
        port: int = transport.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        coils = SimData(0, count=ACK_COIL + len(self.map.machines), values=False,
                        datatype=DataType.BITS)
        inputs = SimData(0, count=LATCH_INPUT + 1, values=False, datatype=DataType.BITS)
        holding = SimData(0, count=max(1, len(self.map.conveyors)), values=0,
                          datatype=DataType.UINT16)
        input_registers = SimData(0, count=COUNT_REGISTER + 2 * max(1, len(self.map.lines)),
                                  values=0, datatype=DataType.UINT16)
        device = SimDevice(UNIT, simdata=([coils], [inputs], [holding], [input_registers]),
                           action=self._program)
        self._server = ModbusTcpServer(device, address=self._address)
        self._task = asyncio.get_running_loop().create_task(self._server.serve_forever(),
                                                            name="plc-simulator")
        host, port = self._address
        for _ in range(200):
            if self._server.transport is not None:
                return
            if self._task.done():
                break
            await asyncio.sleep(0.01)
        problem = self._task.exception() if self._task.done() else "no answer in 2 s"
        with contextlib.suppress(Exception):  # its failure is the problem reported below
            await self.stop()
        raise BackendError("plc-simulator-failed", f"cannot start the PLC simulator on "
                           f"{host}:{port} ({problem}); if another assistant (the service) "
                           "uses that port, set skills.factory.modbus.port = 0 for any free one")

    async def stop(self) -> None:
        """The server goes away (a killed PLC): connections drop, nothing answers."""
        server, task = self._server, self._task
        self._server = self._task = None
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _program(self, function_code: int, start_address: int, address: int,  # noqa: PLR0917 (pymodbus calls it so)
                       count: int, registers: list[int],
                       set_values: list[int] | list[bool] | None) -> Any:
        """Runs on every request: writes act on the plant, reads see its state."""
        if set_values is not None:
            refused = await self._write(function_code, address, list(set_values))
            if refused:
                return ExcCodes.DEVICE_FAILURE
        self._refresh(function_code, start_address, registers)
        return None

    async def _write(self, function_code: int, address: int, values: list[Any]) -> bool:
        plant, machines = self.plant, self.map.machines
        try:
            if function_code in _WRITE_COILS:
                for offset, value in enumerate(values):
                    coil = address + offset
                    if coil < len(machines):
                        await (plant.start_machine if value else plant.stop_machine)(
                            machines[coil])
                    elif coil == STOP_ALL_COIL and value:
                        await plant.stop_all()
                    elif ACK_COIL <= coil < ACK_COIL + len(machines) and value:
                        await plant.acknowledge_alarms(machines[coil - ACK_COIL])
            elif function_code in _WRITE_HOLDING:
                for offset, value in enumerate(values):
                    conveyor = address + offset
                    if conveyor < len(self.map.conveyors):
                        await plant.set_conveyor_speed(self.map.conveyors[conveyor], int(value))
        except RuntimeError:
            return True
        return False

    def _refresh(self, function_code: int, start_address: int, registers: list[int]) -> None:
        plant, machines = self.plant, self.map.machines
        if function_code in {_READ_COILS, *_WRITE_COILS}:
            bits = [plant.running[m] for m in machines]
            bits += [False] * (STOP_ALL_COIL - len(bits)) + [plant.latched]
            registers[:] = _pack(bits, len(registers))
        elif function_code == _READ_INPUTS:
            bits = [plant.running[m] for m in machines]
            bits += [False] * (LATCH_INPUT - len(bits)) + [plant.latched]
            registers[:] = _pack(bits, len(registers))
        elif function_code in {_READ_HOLDING, *_WRITE_HOLDING}:
            for index, conveyor in enumerate(self.map.conveyors):
                registers[index - start_address] = plant.conveyor_speeds[conveyor]
        elif function_code == _READ_INPUT_REGISTERS:
            for index, machine in enumerate(machines):
                reason = plant.alarms.get(machine)
                registers[index - start_address] = alarm_code(reason) if reason else 0
            for index, line in enumerate(self.map.lines):
                count = plant.counts[line]
                at = COUNT_REGISTER + 2 * index - start_address
                registers[at:at + 2] = [(count >> 16) & 0xFFFF, count & 0xFFFF]


class ModbusPlant:
    """The factory skill's plant, spoken to only over Modbus TCP.

    Every call has a timeout. A plant that does not answer is a :class:`BackendError` with a
    spoken reason; the client reconnects on the next call, no sooner than its backoff
    (0.5 s, doubling to 10 s) allows, except for stops: a stop is tried on the bus at once,
    whatever the backoff, and once more on a fresh connection if the first try fails (a stop
    written twice is still one stop). A write sent and never answered is an
    :class:`UnconfirmedError`: it may have happened. Maintenance notes are kept by the
    assistant, not the PLC.

    ``clock``: monotonic seconds for the backoff. Public: the skill builds the client, and a
    test gives it a clock it advances.
    """

    def __init__(self, config: PlantConfig, host: str, port: int, *, timeout_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.map = RegisterMap.of(config)
        self.where = f"{host}:{port}"
        self.notes: list[MaintenanceNote] = []
        self._address = (host, port)
        self._timeout_s = timeout_s
        self._client: Any = None  # made on first use: it binds to the running loop
        self.clock = clock
        self._backoff_s = 0.0
        self._next_attempt = 0.0

    async def aclose(self) -> None:
        if self._client is not None:
            self._client.close()

    async def machine_state(self, machine: str) -> MachineState:
        index = self.map.machines.index(machine)
        running = await self._call("read_discrete_inputs", index, count=1)
        alarm = await self._call("read_input_registers", index, count=1)
        code = alarm.registers[0]
        return MachineState(bool(running.bits[0]), ALARM_CODES.get(code, "fault") if code else None)

    async def start_machine(self, machine: str) -> None:
        await self._call("write_coil", self.map.machines.index(machine), True)

    async def stop_machine(self, machine: str) -> None:
        await self._stop("write_coil", self.map.machines.index(machine), False)

    async def stop_all(self) -> None:
        await self._stop("write_coil", STOP_ALL_COIL, True)

    async def stop_all_latched(self) -> bool:
        return bool((await self._call("read_discrete_inputs", LATCH_INPUT, count=1)).bits[0])

    async def set_conveyor_speed(self, conveyor: str, percent: int) -> None:
        write = self._stop if percent == 0 else self._call
        await write("write_register", self.map.conveyors.index(conveyor), percent)

    async def acknowledge_alarms(self, machine: str | None) -> list[str]:
        alarms = await self._call("read_input_registers", 0, count=len(self.map.machines))
        cleared = [m for m, code in zip(self.map.machines, alarms.registers, strict=False)
                   if code and machine in (None, m)]
        for name in cleared:
            await self._call("write_coil", ACK_COIL + self.map.machines.index(name), True)
        return cleared

    async def production_count(self, line: str) -> int:
        at = COUNT_REGISTER + 2 * self.map.lines.index(line)
        high, low = (await self._call("read_input_registers", at, count=2)).registers
        return int(high) << 16 | int(low)

    async def log_maintenance_note(self, machine: str, note: str) -> None:
        self.notes.append(MaintenanceNote(datetime.now(UTC), machine, note))

    async def _stop(self, method: str, *args: Any) -> None:
        """A stop: tried at once whatever the backoff, and again on a new connection if the
        first try fails; only the second failure is reported."""
        try:
            await self._call(method, *args, urgent=True)
        except BackendError as err:
            if err.code == "plant-refused":
                raise
            _LOGGER.warning("stop %s%s failed (%s); trying once more", method, args, err)
            try:
                await self._call(method, *args, urgent=True)
            except BackendError as again:
                # Sent once already: whatever the second try says, it may have happened.
                if isinstance(err, UnconfirmedError) and \
                        not isinstance(again, UnconfirmedError):
                    raise err from again
                raise

    async def _call(self, method: str, *args: Any, urgent: bool = False, **kwargs: Any) -> Any:
        from pymodbus.exceptions import ModbusException

        await self._connected(urgent=urgent)
        try:
            response = await getattr(self._client, method)(*args, device_id=UNIT, **kwargs)
        except (ModbusException, OSError, TimeoutError) as err:
            self._failed()
            if method.startswith("write"):
                # Sent, never confirmed: it may or may not have happened; never claim either.
                raise UnconfirmedError("plant-unconfirmed", f"the plant controller at "
                                       f"{self.where} stopped answering before it confirmed "
                                       "the command; check at the plant whether it "
                                       "happened") from err
            raise BackendError("plant-unreachable", f"the plant controller at {self.where} "
                               "did not answer, so nothing was done") from err
        if response.isError():
            if getattr(response, "exception_code", None) == ExcCodes.DEVICE_FAILURE:
                raise BackendError("plant-refused", "the plant controller refused it")
            raise BackendError("plant-error", f"the plant controller answered with an error "
                               f"({response})")
        self._backoff_s = 0.0
        return response

    async def _connected(self, *, urgent: bool = False) -> None:
        if self._client is None:
            from pymodbus.client import AsyncModbusTcpClient

            host, port = self._address
            self._client = AsyncModbusTcpClient(host, port=port, timeout=self._timeout_s,
                                                retries=0, reconnect_delay=0)
        if self._client.connected:
            return
        if self.clock() < self._next_attempt and not urgent:
            raise BackendError("plant-unreachable", f"the plant controller at {self.where} is "
                               "not reachable; I'm retrying, so nothing was done")
        if not await self._client.connect():
            self._failed()
            raise BackendError("plant-unreachable", f"cannot connect to the plant controller "
                               f"at {self.where}, so nothing was done")

    def _failed(self) -> None:
        self._client.close()
        self._backoff_s = min(10.0, max(0.5, self._backoff_s * 2))
        self._next_attempt = self.clock() + self._backoff_s
