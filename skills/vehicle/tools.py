"""The vehicle skill's tools: argument models (how they are spoken) and handlers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from assistant.skill_api import (
    NoArguments,
    Safety,
    Slot,
    SlotKind,
    Tool,
    ToolResult,
    format_number,
    tool,
)
from skills.vehicle.backend import (
    Category,
    DefrostTarget,
    HeadlightMode,
    Seat,
    StatusItem,
    VehicleBackend,
    Window,
    Zone,
)

__all__ = ["vehicle_tools"]

_ZONE = Slot(
    label="zone",
    question="Which zone: driver, passenger, rear or all?",
    aliases={
        Zone.DRIVER: ("driver's", "driver side", "driver's side", "my side", "front left"),
        Zone.PASSENGER: ("passenger side", "passenger's side", "passenger's", "front right"),
        Zone.REAR: ("back", "back seats", "rear seats", "back seat", "rear seat", "backseat"),
        Zone.ALL: ("everywhere", "all zones", "whole car", "every zone", "cabin", "car"),
    },
    context="zone",
    speaker_words=("my side",),
)
_WINDOW = Slot(
    label="window",
    question="Which window?",
    aliases={
        Window.DRIVER: ("my", "driver's", "driver side", "driver's side", "front left"),
        Window.PASSENGER: ("passenger side", "passenger's", "passenger's side", "front right"),
        Window.REAR_LEFT: ("back left", "left rear", "left back", "rear driver side"),
        Window.REAR_RIGHT: ("back right", "right rear", "right back", "rear passenger side"),
        Window.ALL: ("every", "each", "all of the", "all the", "both"),
    },
    context="zone",
    speaker_words=("my",),
)
_POSITION = Slot(
    label="window position", unit="percent",
    question="How far open?",
    aliases={
        50: ("halfway", "half way", "half", "half open", "to the middle"),
        10: ("a crack", "a little", "a little bit", "a bit", "slightly", "an inch"),
        25: ("a quarter", "a quarter of the way", "quarter of the way", "quarter way"),
        75: ("3 quarters", "3 quarters of the way"),
        100: ("all the way", "fully", "completely", "all the way open", "wide open", "open"),
        0: ("closed", "shut", "all the way closed", "fully closed"),
    },
)
_SEAT = Slot(
    label="seat",
    question="Which seat?",
    aliases={
        Seat.DRIVER: ("my", "my seat", "driver's", "driver seat", "driver's seat", "mine"),
        Seat.PASSENGER: ("passenger seat", "passenger's", "passenger's seat", "front right"),
        Seat.REAR_LEFT: ("back left", "left rear", "rear left seat", "back left seat"),
        Seat.REAR_RIGHT: ("back right", "right rear", "rear right seat", "back right seat"),
    },
    context="zone",
    speaker_words=("my", "my seat", "mine"),
)
_OFF_MAX_7 = {0: ("off",), 7: ("max", "maximum", "full", "full blast", "highest", "high"),
              1: ("lowest", "minimum", "min", "low")}
_SEAT_LEVEL = {0: ("off",), 1: ("low", "lowest", "minimum"), 2: ("medium", "mid"),
               3: ("max", "maximum", "high", "highest", "full")}


class SetTemperature(BaseModel):
    model_config = ConfigDict(frozen=True)
    celsius: Annotated[float, Field(ge=16, le=30), Slot(label="temperature", unit="degrees",
                                                         question="To what temperature?")]
    zone: Annotated[Zone, _ZONE] = Zone.ALL


class ChangeTemperature(BaseModel):
    model_config = ConfigDict(frozen=True)
    delta: Annotated[float, Field(ge=-5, le=5), Slot(label="temperature change",
                                                     unit="degrees")]
    zone: Annotated[Zone, _ZONE] = Zone.ALL


class SetFanSpeed(BaseModel):
    model_config = ConfigDict(frozen=True)
    level: Annotated[int, Field(ge=0, le=7), Slot(label="fan speed", aliases=_OFF_MAX_7,
                                                  question="Which fan speed?")]


class SetAirConditioning(BaseModel):
    model_config = ConfigDict(frozen=True)
    on: Annotated[bool, Slot(label="air conditioning", question="On or off?")]


class SetDefrost(BaseModel):
    model_config = ConfigDict(frozen=True)
    target: Annotated[DefrostTarget, Slot(
        label="defrost", question="Front or rear?",
        aliases={DefrostTarget.FRONT: ("windshield", "windscreen", "front window", "front"),
                 DefrostTarget.REAR: ("back window", "rear window", "back", "rear")})]
    on: Annotated[bool, Slot(label="defrost setting")] = True


class SetSeatHeater(BaseModel):
    model_config = ConfigDict(frozen=True)
    seat: Annotated[Seat, _SEAT]
    level: Annotated[int, Field(ge=0, le=3), Slot(label="seat heater level",
                                                  aliases=_SEAT_LEVEL,
                                                  question="Which level?")]


class SetWindow(BaseModel):
    model_config = ConfigDict(frozen=True)
    window: Annotated[Window, _WINDOW]
    position: Annotated[int, Field(ge=0, le=100), _POSITION]


class NavigateTo(BaseModel):
    model_config = ConfigDict(frozen=True)
    destination: Annotated[str, Field(min_length=1, max_length=200,
                                      examples=["the harbour", "the north gate"]),
                           Slot(kind=SlotKind.TEXT, label="destination", question="Where to?")]


class FindNearby(BaseModel):
    model_config = ConfigDict(frozen=True)
    category: Annotated[Category, Slot(
        label="kind of place", question="What should I look for?",
        aliases={
            Category.FUEL: ("gas", "gas station", "petrol", "petrol station", "fuel station",
                            "filling station", "gas stations", "petrol stations", "fill up",
                            "refuel"),
            Category.CHARGING: ("charger", "charging station", "charging stations",
                                "ev charger", "charging point", "chargers", "charge"),
            Category.PARKING: ("parking lot", "car park", "parking garage", "parking spot",
                               "place to park", "parking space", "park"),
            Category.RESTAURANT: ("restaurants", "food", "somewhere to eat", "place to eat",
                                  "something to eat", "diner"),
            Category.COFFEE: ("coffee shop", "cafe", "coffee place", "cafes", "coffee shops"),
            Category.HOSPITAL: ("emergency room", "hospitals", "er", "a and e"),
        })]


class SetVolume(BaseModel):
    model_config = ConfigDict(frozen=True)
    level: Annotated[int, Field(ge=0, le=100), Slot(
        label="volume", unit="percent", question="Which volume?",
        aliases={0: ("mute", "off", "silent", "zero"), 100: ("max", "maximum", "full"),
                 50: ("half", "halfway", "half way")})]


class ChangeVolume(BaseModel):
    model_config = ConfigDict(frozen=True)
    delta: Annotated[int, Field(ge=-100, le=100), Slot(label="volume change", unit="percent")]


class PlayMedia(BaseModel):
    model_config = ConfigDict(frozen=True)
    query: Annotated[str, Field(min_length=1, max_length=200,
                                examples=["folk music", "the evening news"]),
                     Slot(kind=SlotKind.TEXT, label="music", question="What should I play?")]


class SetHeadlights(BaseModel):
    model_config = ConfigDict(frozen=True)
    mode: Annotated[HeadlightMode, Slot(
        label="headlight mode", question="Off, auto, low or high beam?",
        aliases={HeadlightMode.AUTO: ("automatic", "auto mode", "automatic mode"),
                 HeadlightMode.LOW: ("low beam", "low beams", "dipped", "dipped beam", "dims"),
                 HeadlightMode.HIGH: ("high beam", "high beams", "full beam", "brights",
                                      "main beam")})]


class GetVehicleStatus(BaseModel):
    model_config = ConfigDict(frozen=True)
    item: Annotated[StatusItem, Slot(
        label="status item", question="Fuel, range, battery, tyres, oil or speed?",
        aliases={
            StatusItem.FUEL: ("gas", "petrol", "fuel level", "tank", "gas level", "diesel"),
            StatusItem.RANGE: ("distance to empty", "remaining range", "mileage left"),
            StatusItem.BATTERY: ("charge", "battery level", "battery charge", "charge level"),
            StatusItem.TIRE_PRESSURE: ("tire pressure", "tyre pressure", "tires", "tyres",
                                       "tire pressures", "tyre pressures", "tire", "tyre"),
            StatusItem.OIL: ("oil level", "oil life", "engine oil"),
            StatusItem.SPEED: ("current speed", "velocity"),
        })]


def _spoken(value: str) -> str:
    return value.replace("_", " ")


def vehicle_tools(car: VehicleBackend) -> tuple[Tool, ...]:
    """The vehicle tools, bound to a car."""

    async def set_temperature(a: SetTemperature) -> ToolResult:
        await car.set_temperature(a.zone, a.celsius)
        where = "everywhere" if a.zone == Zone.ALL else f"on the {a.zone} side" \
            if a.zone != Zone.REAR else "in the rear"
        return ToolResult(True, f"Temperature set to {format_number(a.celsius)} degrees {where}.")

    async def change_temperature(a: ChangeTemperature) -> ToolResult:
        current = await car.temperatures()
        zones = [z for z in current if a.zone in (Zone.ALL, z)]
        targets = {z: current[z] + a.delta for z in zones}
        if any(not 16 <= t <= 30 for t in targets.values()):
            now = ", ".join(format_number(current[z]) for z in zones)
            return ToolResult(False, f"The temperature is {now} degrees; changing it by "
                                     f"{format_number(a.delta)} would leave 16 to 30 degrees.")
        for zone, celsius in targets.items():
            await car.set_temperature(zone, celsius)
        word = "warmer" if a.delta > 0 else "cooler"
        shown = ", ".join(format_number(t) for t in sorted(set(targets.values())))
        return ToolResult(True, f"Making it {word}: now {shown} degrees.")

    async def set_fan_speed(a: SetFanSpeed) -> ToolResult:
        await car.set_fan_speed(a.level)
        return ToolResult(True, "Fan off." if a.level == 0 else f"Fan speed {a.level}.")

    async def set_air_conditioning(a: SetAirConditioning) -> ToolResult:
        await car.set_air_conditioning(a.on)
        return ToolResult(True, f"Air conditioning {'on' if a.on else 'off'}.")

    async def set_defrost(a: SetDefrost) -> ToolResult:
        await car.set_defrost(a.target, a.on)
        return ToolResult(True, f"{a.target.capitalize()} defrost {'on' if a.on else 'off'}.")

    async def set_seat_heater(a: SetSeatHeater) -> ToolResult:
        await car.set_seat_heater(a.seat, a.level)
        state = "off" if a.level == 0 else f"on level {a.level}"
        return ToolResult(True, f"{_spoken(a.seat).capitalize()} seat heater {state}.")

    async def set_window(a: SetWindow) -> ToolResult:
        await car.set_window(a.window, a.position)
        which = "All windows" if a.window == Window.ALL else \
            f"{_spoken(a.window).capitalize()} window"
        state = {0: "closed", 100: "open"}.get(a.position, f"{a.position} percent open")
        return ToolResult(True, f"{which} {state}.")

    async def lock_doors(_: NoArguments) -> ToolResult:
        await car.set_locked(True)
        return ToolResult(True, "Doors locked.")

    async def unlock_doors(_: NoArguments) -> ToolResult:
        await car.set_locked(False)
        return ToolResult(True, "Doors unlocked.")

    async def moving(_: NoArguments) -> str | None:
        speed = await car.speed_kmh()
        if speed > 0:
            return f"I can't unlock the doors while the car is moving " \
                   f"({format_number(speed)} kilometres per hour)."
        return None

    async def navigate_to(a: NavigateTo) -> ToolResult:
        await car.navigate_to(a.destination)
        return ToolResult(True, f"Navigating to {a.destination}.")

    async def find_nearby(a: FindNearby) -> ToolResult:
        place, km = await car.nearest(a.category)
        return ToolResult(True, f"The nearest is {place}, {format_number(km)} kilometres away.")

    async def cancel_navigation(_: NoArguments) -> ToolResult:
        was = await car.cancel_navigation()
        return ToolResult(True, "Navigation cancelled." if was else "No route was active.")

    async def set_volume(a: SetVolume) -> ToolResult:
        await car.set_volume(a.level)
        return ToolResult(True, "Muted." if a.level == 0 else f"Volume {a.level}.")

    async def change_volume(a: ChangeVolume) -> ToolResult:
        target = await car.volume() + a.delta
        level = min(100, max(0, target))
        await car.set_volume(level)
        limit = " That's the maximum." if target > 100 else " That's muted." if target < 0 else ""
        return ToolResult(True, f"Volume {level}.{limit}")

    async def play_media(a: PlayMedia) -> ToolResult:
        await car.play_media(a.query)
        return ToolResult(True, f"Playing {a.query}.")

    async def pause_media(_: NoArguments) -> ToolResult:
        was = await car.pause_media()
        return ToolResult(True, "Paused." if was else "Nothing was playing.")

    async def set_headlights(a: SetHeadlights) -> ToolResult:
        await car.set_headlights(a.mode)
        text = {HeadlightMode.OFF: "Headlights off.", HeadlightMode.AUTO: "Headlights on auto.",
                HeadlightMode.LOW: "Low beams on.", HeadlightMode.HIGH: "High beams on."}
        return ToolResult(True, text[a.mode])

    async def get_vehicle_status(a: GetVehicleStatus) -> ToolResult:
        value, unit = await car.status(a.item)
        return ToolResult(True, f"{_spoken(a.item).capitalize()}: {format_number(value)} {unit}.")

    return (
        tool("set_temperature", SetTemperature, set_temperature,
             description="Set the cabin temperature of a zone"),
        tool("change_temperature", ChangeTemperature, change_temperature,
             description="Make a zone warmer (positive) or cooler (negative)"),
        tool("set_fan_speed", SetFanSpeed, set_fan_speed, description="Set the fan speed"),
        tool("set_air_conditioning", SetAirConditioning, set_air_conditioning,
             description="Turn the air conditioning on or off"),
        tool("set_defrost", SetDefrost, set_defrost,
             description="Turn the front or rear defrost on or off"),
        tool("set_seat_heater", SetSeatHeater, set_seat_heater,
             description="Set a seat heater level"),
        tool("set_window", SetWindow, set_window, description="Open or close a window"),
        tool("lock_doors", NoArguments, lock_doors, description="Lock the doors"),
        tool("unlock_doors", NoArguments, unlock_doors, description="Unlock the doors",
             safety=Safety.CONFIRM, interlocks=(("vehicle moving", moving),),
             readback=lambda _: "Unlock the doors."),
        tool("navigate_to", NavigateTo, navigate_to, description="Navigate to a destination"),
        tool("find_nearby", FindNearby, find_nearby, description="Find a nearby place",
             changes=False),
        tool("cancel_navigation", NoArguments, cancel_navigation,
             description="Cancel navigation"),
        tool("set_volume", SetVolume, set_volume, description="Set the media volume"),
        tool("change_volume", ChangeVolume, change_volume,
             description="Make the media louder (positive) or quieter (negative)"),
        tool("play_media", PlayMedia, play_media, description="Play an artist, station or song"),
        tool("pause_media", NoArguments, pause_media, description="Pause the media"),
        tool("set_headlights", SetHeadlights, set_headlights,
             description="Set the headlight mode"),
        tool("get_vehicle_status", GetVehicleStatus, get_vehicle_status,
             description="Report fuel, range, battery, tyre pressure, oil or speed", changes=False),
    )
