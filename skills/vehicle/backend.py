"""The vehicle as the skill sees it, and a simulator with real state that starts parked."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

__all__ = [
    "Category",
    "DefrostTarget",
    "HeadlightMode",
    "Seat",
    "SimulatedVehicle",
    "StatusItem",
    "VehicleBackend",
    "Window",
    "Zone",
]


class Zone(StrEnum):
    DRIVER = "driver"
    PASSENGER = "passenger"
    REAR = "rear"
    ALL = "all"


class Window(StrEnum):
    DRIVER = "driver"
    PASSENGER = "passenger"
    REAR_LEFT = "rear_left"
    REAR_RIGHT = "rear_right"
    ALL = "all"


class Seat(StrEnum):
    DRIVER = "driver"
    PASSENGER = "passenger"
    REAR_LEFT = "rear_left"
    REAR_RIGHT = "rear_right"


class DefrostTarget(StrEnum):
    FRONT = "front"
    REAR = "rear"


class HeadlightMode(StrEnum):
    OFF = "off"
    AUTO = "auto"
    LOW = "low"
    HIGH = "high"


class Category(StrEnum):
    FUEL = "fuel"
    CHARGING = "charging"
    PARKING = "parking"
    RESTAURANT = "restaurant"
    COFFEE = "coffee"
    HOSPITAL = "hospital"


class StatusItem(StrEnum):
    FUEL = "fuel"
    RANGE = "range"
    BATTERY = "battery"
    TIRE_PRESSURE = "tire_pressure"
    OIL = "oil"
    SPEED = "speed"


CABIN_ZONES = (Zone.DRIVER, Zone.PASSENGER, Zone.REAR)
SINGLE_WINDOWS = (Window.DRIVER, Window.PASSENGER, Window.REAR_LEFT, Window.REAR_RIGHT)


class VehicleBackend(Protocol):
    """What the vehicle skill needs from a car: a simulator now, a CAN bus later."""

    async def speed_kmh(self) -> float: ...
    async def temperatures(self) -> dict[Zone, float]: ...
    async def set_temperature(self, zone: Zone, celsius: float) -> None: ...
    async def set_fan_speed(self, level: int) -> None: ...
    async def set_air_conditioning(self, on: bool) -> None: ...
    async def set_defrost(self, target: DefrostTarget, on: bool) -> None: ...
    async def set_seat_heater(self, seat: Seat, level: int) -> None: ...
    async def set_window(self, window: Window, position: int) -> None: ...
    async def set_locked(self, locked: bool) -> None: ...
    async def navigate_to(self, destination: str) -> None: ...
    async def nearest(self, category: Category) -> tuple[str, float]: ...
    async def cancel_navigation(self) -> bool: ...
    async def volume(self) -> int: ...
    async def set_volume(self, level: int) -> None: ...
    async def play_media(self, query: str) -> None: ...
    async def pause_media(self) -> bool: ...
    async def set_headlights(self, mode: HeadlightMode) -> None: ...
    async def status(self, item: StatusItem) -> tuple[float, str]: ...


_NEARBY = {
    Category.FUEL: ("Shell on Harbour Road", 2.4),
    Category.CHARGING: ("the fast charger at Mill Street car park", 3.1),
    Category.PARKING: ("Mill Street car park", 0.8),
    Category.RESTAURANT: ("Luigi's on the high street", 1.2),
    Category.COFFEE: ("Bean There on Station Road", 0.6),
    Category.HOSPITAL: ("St Mary's Hospital", 5.3),
}


@dataclass
class SimulatedVehicle:
    """An in-process car with real state; parked, locked, at 21 degrees at start."""

    speed: float = 0.0
    cabin: dict[Zone, float] = field(default_factory=lambda: dict.fromkeys(CABIN_ZONES, 21.0))
    fan_level: int = 2
    air_conditioning: bool = False
    defrost: dict[DefrostTarget, bool] = field(
        default_factory=lambda: dict.fromkeys(DefrostTarget, False))
    seat_heaters: dict[Seat, int] = field(default_factory=lambda: dict.fromkeys(Seat, 0))
    windows: dict[Window, int] = field(default_factory=lambda: dict.fromkeys(SINGLE_WINDOWS, 0))
    locked: bool = True
    destination: str | None = None
    media_volume: int = 30
    playing: str | None = None
    headlights: HeadlightMode = HeadlightMode.AUTO
    fuel_percent: float = 62.0
    range_km: float = 410.0
    battery_percent: float = 88.0
    tire_pressure_bar: float = 2.4
    oil_percent: float = 74.0

    async def speed_kmh(self) -> float:
        return self.speed

    async def temperatures(self) -> dict[Zone, float]:
        return dict(self.cabin)

    async def set_temperature(self, zone: Zone, celsius: float) -> None:
        for target in CABIN_ZONES if zone == Zone.ALL else (zone,):
            self.cabin[target] = celsius

    async def set_fan_speed(self, level: int) -> None:
        self.fan_level = level

    async def set_air_conditioning(self, on: bool) -> None:
        self.air_conditioning = on

    async def set_defrost(self, target: DefrostTarget, on: bool) -> None:
        self.defrost[target] = on

    async def set_seat_heater(self, seat: Seat, level: int) -> None:
        self.seat_heaters[seat] = level

    async def set_window(self, window: Window, position: int) -> None:
        for target in SINGLE_WINDOWS if window == Window.ALL else (window,):
            self.windows[target] = position

    async def set_locked(self, locked: bool) -> None:
        self.locked = locked

    async def navigate_to(self, destination: str) -> None:
        self.destination = destination

    async def nearest(self, category: Category) -> tuple[str, float]:
        return _NEARBY[category]

    async def cancel_navigation(self) -> bool:
        was_navigating = self.destination is not None
        self.destination = None
        return was_navigating

    async def volume(self) -> int:
        return self.media_volume

    async def set_volume(self, level: int) -> None:
        self.media_volume = level

    async def play_media(self, query: str) -> None:
        self.playing = query

    async def pause_media(self) -> bool:
        was_playing = self.playing is not None
        self.playing = None
        return was_playing

    async def set_headlights(self, mode: HeadlightMode) -> None:
        self.headlights = mode

    async def status(self, item: StatusItem) -> tuple[float, str]:
        readings = {
            StatusItem.FUEL: (self.fuel_percent, "percent"),
            StatusItem.RANGE: (self.range_km, "kilometres"),
            StatusItem.BATTERY: (self.battery_percent, "percent"),
            StatusItem.TIRE_PRESSURE: (self.tire_pressure_bar, "bar"),
            StatusItem.OIL: (self.oil_percent, "percent"),
            StatusItem.SPEED: (self.speed, "kilometres per hour"),
        }
        return readings[item]
