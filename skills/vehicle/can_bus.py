"""The car over CAN: a simulated body controller and the vehicle skill's CAN back end.

Signals are described in ``body.dbc`` (cantools). The assistant sends ``BODY_CMD`` with a
sequence number and waits for the controller's ``BODY_ACK`` with the same number; the
controller broadcasts ``VEHICLE_STATUS`` and ``CLIMATE_STATUS`` every 100 ms, and the back
end answers state questions (speed, temperatures, fuel, ...) from the latest frames.
Navigation and media belong to the head unit, not the body bus, and stay in process.
Buses come from python-can: its ``virtual`` interface in tests and the demo, ``socketcan``
(e.g. ``vcan0``) where configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

import can
import cantools

from assistant.skill_api import BackendError, UnconfirmedError
from skills.vehicle.backend import (
    CABIN_ZONES,
    DefrostTarget,
    HeadlightMode,
    Seat,
    SimulatedVehicle,
    StatusItem,
    Window,
    Zone,
)

__all__ = ["DBC", "BodyController", "CanVehicle", "Command", "open_bus"]

DBC = Path(__file__).with_name("body.dbc")
STATUS_PERIOD_S = 0.1
_ZONES = [Zone.DRIVER, Zone.PASSENGER, Zone.REAR, Zone.ALL]
_SEATS = list(Seat)
_WINDOWS = list(Window)
_DEFROST = list(DefrostTarget)
_HEADLIGHTS = list(HeadlightMode)


class Command(IntEnum):
    TEMPERATURE = 1
    FAN = 2
    AIR_CONDITIONING = 3
    DEFROST = 4
    SEAT_HEATER = 5
    WINDOW = 6
    LOCK = 7
    HEADLIGHTS = 8


class Result(IntEnum):
    DONE = 0
    REFUSED = 1
    INVALID = 2


def open_bus(interface: str = "virtual", channel: str = "vehicle") -> can.BusABC:
    """A python-can bus: ``virtual`` (in process) or ``socketcan`` (``vcan0``, ``can0``)."""
    try:
        return can.Bus(interface=interface, channel=channel)
    except (can.CanError, OSError, ValueError) as err:
        raise BackendError("vehicle-bus-unavailable", f"cannot open CAN {interface} channel "
                           f"{channel!r}: {err}") from err


def _database() -> Any:
    return cantools.database.load_file(str(DBC))


@dataclass
class BodyController:
    """A simulated body controller on a CAN bus: applies commands to a simulated car,
    answers each with an ack, and broadcasts status frames."""

    car: SimulatedVehicle
    bus: can.BusABC
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._db = _database()
        self._reader = can.AsyncBufferedReader()
        self._notifier = can.Notifier(self.bus, [self._reader], loop=loop)
        self._tasks = [loop.create_task(self._serve(), name="body-controller-commands"),
                       loop.create_task(self._broadcast(), name="body-controller-status")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._notifier.stop()

    async def _serve(self) -> None:
        command_id = self._db.get_message_by_name("BODY_CMD").frame_id
        while True:
            frame = await self._reader.get_message()
            if frame.arbitration_id != command_id:
                continue
            fields = self._db.decode_message("BODY_CMD", frame.data)
            result = await self._apply(int(fields["Command"]), int(fields["Target"]),
                                       float(fields["Value"]))
            self._send("BODY_ACK", {"Sequence": fields["Sequence"], "Result": result})

    async def _apply(self, command: int, target: int, value: float) -> Result:
        car = self.car
        try:
            match Command(command):
                case Command.TEMPERATURE:
                    await car.set_temperature(_ZONES[target], value)
                case Command.FAN:
                    await car.set_fan_speed(int(value))
                case Command.AIR_CONDITIONING:
                    await car.set_air_conditioning(bool(value))
                case Command.DEFROST:
                    await car.set_defrost(_DEFROST[target], bool(value))
                case Command.SEAT_HEATER:
                    await car.set_seat_heater(_SEATS[target], int(value))
                case Command.WINDOW:
                    await car.set_window(_WINDOWS[target], int(value))
                case Command.LOCK:
                    if not value and car.speed > 0:
                        return Result.REFUSED  # the controller's own interlock
                    await car.set_locked(bool(value))
                case Command.HEADLIGHTS:
                    await car.set_headlights(_HEADLIGHTS[int(value)])
        except (ValueError, IndexError):
            return Result.INVALID
        return Result.DONE

    async def _broadcast(self) -> None:
        while True:
            car = self.car
            self._send("VEHICLE_STATUS", {
                "SpeedKmh": car.speed, "FuelPct": car.fuel_percent,
                "BatteryPct": car.battery_percent, "OilPct": car.oil_percent,
                "TirePressureBar": car.tire_pressure_bar, "Locked": int(car.locked),
                "HeadlightMode": _HEADLIGHTS.index(car.headlights),
                "AirConditioning": int(car.air_conditioning), "FanLevel": car.fan_level,
                "RangeKm": min(1020.0, car.range_km)})
            self._send("CLIMATE_STATUS", {
                "DriverCelsius": car.cabin[Zone.DRIVER],
                "PassengerCelsius": car.cabin[Zone.PASSENGER],
                "RearCelsius": car.cabin[Zone.REAR],
                "DefrostFront": int(car.defrost[DefrostTarget.FRONT]),
                "DefrostRear": int(car.defrost[DefrostTarget.REAR])})
            await asyncio.sleep(STATUS_PERIOD_S)

    def _send(self, name: str, signals: dict[str, Any]) -> None:
        message = self._db.get_message_by_name(name)
        self.bus.send(can.Message(arbitration_id=message.frame_id, is_extended_id=False,
                                  data=message.encode(signals)))


class CanVehicle:
    """The vehicle skill's car: body and climate over CAN, navigation and media in the
    head unit (in process). Started on first use, on the running loop."""

    def __init__(self, bus: can.BusABC, *, timeout_s: float = 0.5,
                 stale_after_s: float = 1.0) -> None:
        self.bus = bus
        self.head_unit = SimulatedVehicle()
        self._timeout_s = timeout_s
        self._stale_after_s = stale_after_s
        self._db = _database()
        self._sequence = itertools.count(1)
        self._pending: dict[int, asyncio.Future[int]] = {}
        self._latest: dict[str, tuple[float, dict[str, Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._notifier: can.Notifier | None = None

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._notifier is not None:
            self._notifier.stop()
        self.bus.shutdown()

    # State, from the latest status frames.

    async def speed_kmh(self) -> float:
        return float((await self._frame("VEHICLE_STATUS"))["SpeedKmh"])

    async def temperatures(self) -> dict[Zone, float]:
        climate = await self._frame("CLIMATE_STATUS")
        readings = dict(zip(CABIN_ZONES, ("DriverCelsius", "PassengerCelsius", "RearCelsius"),
                            strict=True))
        return {zone: float(climate[name]) for zone, name in readings.items()}

    async def status(self, item: StatusItem) -> tuple[float, str]:
        frame = await self._frame("VEHICLE_STATUS")
        signal, unit = {
            StatusItem.FUEL: ("FuelPct", "percent"),
            StatusItem.RANGE: ("RangeKm", "kilometres"),
            StatusItem.BATTERY: ("BatteryPct", "percent"),
            StatusItem.TIRE_PRESSURE: ("TirePressureBar", "bar"),
            StatusItem.OIL: ("OilPct", "percent"),
            StatusItem.SPEED: ("SpeedKmh", "kilometres per hour"),
        }[item]
        return float(frame[signal]), unit

    # Commands, each acknowledged by the body controller.

    async def set_temperature(self, zone: Zone, celsius: float) -> None:
        await self._command(Command.TEMPERATURE, _ZONES.index(zone), celsius)

    async def set_fan_speed(self, level: int) -> None:
        await self._command(Command.FAN, 0, level)

    async def set_air_conditioning(self, on: bool) -> None:
        await self._command(Command.AIR_CONDITIONING, 0, int(on))

    async def set_defrost(self, target: DefrostTarget, on: bool) -> None:
        await self._command(Command.DEFROST, _DEFROST.index(target), int(on))

    async def set_seat_heater(self, seat: Seat, level: int) -> None:
        await self._command(Command.SEAT_HEATER, _SEATS.index(seat), level)

    async def set_window(self, window: Window, position: int) -> None:
        await self._command(Command.WINDOW, _WINDOWS.index(window), position)

    async def set_locked(self, locked: bool) -> None:
        await self._command(Command.LOCK, 0, int(locked))

    async def set_headlights(self, mode: HeadlightMode) -> None:
        await self._command(Command.HEADLIGHTS, 0, _HEADLIGHTS.index(mode))

    # The head unit.

    async def navigate_to(self, destination: str) -> None:
        await self.head_unit.navigate_to(destination)

    async def nearest(self, category: Any) -> tuple[str, float]:
        return await self.head_unit.nearest(category)

    async def cancel_navigation(self) -> bool:
        return await self.head_unit.cancel_navigation()

    async def volume(self) -> int:
        return await self.head_unit.volume()

    async def set_volume(self, level: int) -> None:
        await self.head_unit.set_volume(level)

    async def play_media(self, query: str) -> None:
        await self.head_unit.play_media(query)

    async def pause_media(self) -> bool:
        return await self.head_unit.pause_media()

    # The bus.

    def _started(self) -> None:
        if self._task is None:
            loop = asyncio.get_running_loop()
            reader = can.AsyncBufferedReader()
            self._notifier = can.Notifier(self.bus, [reader], loop=loop)
            self._task = loop.create_task(self._listen(reader), name="vehicle-can-listener")

    async def _listen(self, reader: can.AsyncBufferedReader) -> None:
        loop = asyncio.get_running_loop()
        names = {m.frame_id: m.name for m in self._db.messages}
        while True:
            frame = await reader.get_message()
            name = names.get(frame.arbitration_id)
            if name is None:
                continue
            try:
                fields = self._db.decode_message(name, frame.data, decode_choices=False)
            except (ValueError, KeyError) as err:  # a malformed frame is skipped, not fatal
                _ = err
                continue
            if name == "BODY_ACK":
                waiting = self._pending.pop(int(fields["Sequence"]), None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(int(fields["Result"]))
            else:
                self._latest[name] = (loop.time(), fields)

    async def _frame(self, name: str) -> dict[str, Any]:
        self._started()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._stale_after_s
        while True:
            seen = self._latest.get(name)
            if seen is not None and loop.time() - seen[0] <= self._stale_after_s:
                return seen[1]
            if loop.time() >= deadline:
                raise BackendError("vehicle-bus-silent", "the car's body controller has sent "
                                   "no status for a while, so I can't tell")
            await asyncio.sleep(STATUS_PERIOD_S / 2)

    async def _command(self, command: Command, target: int, value: float) -> None:
        self._started()
        sequence = next(self._sequence) % 256
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending[sequence] = answer
        message = self._db.get_message_by_name("BODY_CMD")
        data = message.encode({"Command": int(command), "Target": target, "Value": value,
                               "Sequence": sequence})
        try:
            self.bus.send(can.Message(arbitration_id=message.frame_id, is_extended_id=False,
                                      data=data))
            result = await asyncio.wait_for(answer, self._timeout_s)
        except TimeoutError as err:  # before OSError, of which it is a subclass
            raise UnconfirmedError("vehicle-unconfirmed", "the car's body controller did "
                                   "not confirm the command, so I can't say whether it "
                                   "happened") from err
        except (can.CanError, OSError) as err:
            raise BackendError("vehicle-bus-error", f"the CAN bus failed ({err}), so nothing "
                               "was done") from err
        finally:
            self._pending.pop(sequence, None)
        if result == Result.REFUSED:
            raise BackendError("vehicle-refused", "the car refused it")
        if result != Result.DONE:
            raise BackendError("vehicle-invalid", "the car did not accept that command")
