"""The hub and this project's own satellites on loopback, on real engines: spoken commands
act in the zone they were spoken in, once, answered by the satellite that asked; a
satellite killed mid-utterance causes nothing, and comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.satellites.conftest import OwnSatellite, until
from tests.speech import piper, session

WAKE = "Hey Jarvis."


def _command(text: str) -> Any:
    return session([1.0, piper(WAKE), 0.4, piper(text), 1.5])


async def _connected(*satellites: OwnSatellite) -> None:
    await until(lambda: all(s.device.connected for s in satellites))


async def test_each_satellite_acts_in_its_own_zone(hub_with: Callable[..., Any],
                                                   hub_engines: Any) -> None:
    rear, front = OwnSatellite("rear", hub_engines), OwnSatellite("front", hub_engines)
    for satellite in (rear, front):
        await satellite.start()
    async with hub_with({"rear": {"uri": rear.uri, "area": "car", "zone": "rear"},
                         "front": {"uri": front.uri, "area": "car", "zone": "passenger"}}
                        ) as run:
        await _connected(rear, front)
        before = dict(run.vehicle.cabin)
        await rear.say(_command("I'm cold."))
        await front.say(_command("Open my window."))
        await until(lambda: len(run.audit("result")) >= 2)
        results = {r["satellite"]: (r["tool"], r["arguments"]) for r in run.audit("result")}
        assert results["rear"][0] == "change_temperature"
        assert results["rear"][1]["zone"] == "rear"
        assert results["front"] == ("set_window", {"window": "passenger", "position": 100})
        assert {str(z) for z, c in run.vehicle.cabin.items() if c != before[z]} == {"rear"}
    for satellite in (rear, front):
        await satellite.kill()


async def test_one_utterance_heard_twice_acts_once(hub_with: Callable[..., Any],
                                                    hub_engines: Any) -> None:
    left, right = OwnSatellite("left", hub_engines), OwnSatellite("right", hub_engines)
    for satellite in (left, right):
        await satellite.start()
    async with hub_with({"left": {"uri": left.uri, "zone": "driver"},
                         "right": {"uri": right.uri, "zone": "driver"}}) as run:
        await _connected(left, right)
        audio = _command("Set the fan to level three.")
        left.microphone.say(audio)
        right.microphone.say(audio)
        await until(lambda: not left.microphone.speaking and not right.microphone.speaking)
        await until(lambda: bool(run.audit("result")))
        await asyncio.sleep(3.0)  # time for a second action, were there one
        assert [r["tool"] for r in run.audit("result")] == ["set_fan_speed"]
        assert len(run.audit("decided")) == 1
    for satellite in (left, right):
        await satellite.kill()


async def test_the_same_words_in_two_areas_or_two_commands_in_one_are_all_served(
        hub_with: Callable[..., Any], hub_engines: Any) -> None:
    """Only one area's satellites hear one person: two people elsewhere saying the same
    thing at once are both served, and so are two different commands in one area."""
    names = ("car", "shop", "cab")
    satellites = [OwnSatellite(name, hub_engines) for name in names]
    for satellite in satellites:
        await satellite.start()
    async with hub_with({"car": {"uri": satellites[0].uri, "area": "car"},
                         "shop": {"uri": satellites[1].uri, "area": "shop"},
                         "cab": {"uri": satellites[2].uri, "area": "car"}}) as run:
        await _connected(*satellites)
        same = _command("Set the fan to level three.")
        satellites[0].microphone.say(same)
        satellites[1].microphone.say(same)
        satellites[2].microphone.say(_command("Lock the doors."))
        await until(lambda: len(run.audit("result")) >= 3)
        await asyncio.sleep(2.0)  # time for a wrong extra action, were there one
        assert sorted((r["satellite"], r["tool"]) for r in run.audit("result")) == [
            ("cab", "lock_doors"), ("car", "set_fan_speed"), ("shop", "set_fan_speed")], \
            run.said()
    for satellite in satellites:
        await satellite.kill()


async def test_a_yes_from_another_satellite_confirms_nothing(
        hub_with: Callable[..., Any], hub_engines: Any) -> None:
    rear, front = OwnSatellite("rear", hub_engines), OwnSatellite("front", hub_engines)
    for satellite in (rear, front):
        await satellite.start()
    async with hub_with({"rear": {"uri": rear.uri, "zone": "rear"},
                         "front": {"uri": front.uri, "zone": "passenger"}},
                        skills={"confirm_seconds": 30}) as run:  # time for both yeses
        await _connected(rear, front)
        await rear.say(_command("Unlock the doors."))
        await until(lambda: bool(run.audit("confirm_requested")))
        heard, answered = len(run.of("transcript")), len(run.of("reply"))
        await front.say(_command("Yes."))
        await until(lambda: len(run.of("transcript")) > heard
                    and len(run.of("reply")) > answered)  # the yes heard and answered
        assert run.vehicle.locked, run.said()
        assert not run.audit("confirmed")
        await rear.say(_command("Yes."))  # the satellite that asked: its own wake word, yes
        try:
            await until(lambda: bool(run.audit("confirmed")))
        except TimeoutError:
            raise AssertionError(run.said()) from None
        assert not run.vehicle.locked
    for satellite in (rear, front):
        await satellite.kill()


async def test_a_satellite_killed_mid_utterance_acts_not_and_comes_back(
        hub_with: Callable[..., Any], hub_engines: Any) -> None:
    rear = OwnSatellite("rear", hub_engines)
    await rear.start()
    async with hub_with({"rear": {"uri": rear.uri, "zone": "rear"}}) as run:
        await _connected(rear)
        command = piper("Open all the windows.")
        rear.microphone.say(session([piper(WAKE), 0.4, command[: len(command) * 2 // 3]]))
        await until(lambda: not rear.microphone.speaking)
        await rear.kill()
        await asyncio.sleep(4.0)  # time for an action, were there one
        assert run.audit("decided") == [] and run.audit("result") == []
        assert not any(run.vehicle.windows.values())
        again = OwnSatellite("rear", hub_engines)
        again.port = rear.port
        await again.start()
        await _connected(again)
        await again.say(_command("Open all the windows."))
        await until(lambda: bool(run.audit("result")))
        assert [r["tool"] for r in run.audit("result")] == ["set_window"], run.said()
        await again.kill()


async def test_a_satellite_survives_a_hub_restart(hub_with: Callable[..., Any],
                                                   hub_engines: Any) -> None:
    lathe = OwnSatellite("lathe", hub_engines)
    await lathe.start()
    satellites = {"lathe": {"uri": lathe.uri, "area": "lathe station", "zone": "lathe"}}
    async with hub_with(satellites):
        await _connected(lathe)
    await until(lambda: not lathe.device.connected)
    async with hub_with(satellites) as run:
        await _connected(lathe)
        run.assistant.backend("factory").running["lathe"] = True
        await lathe.say(_command("Stop this machine."))
        await until(lambda: bool(run.audit("result")))
        assert [(r["tool"], r["arguments"]) for r in run.audit("result")] == [
            ("stop_machine", {"machine": "lathe"})], run.said()
    await lathe.kill()


async def test_a_timer_that_rings_is_heard_on_the_satellite(hub_with: Callable[..., Any],
                                                            hub_engines: Any) -> None:
    kitchen = OwnSatellite("kitchen", hub_engines)
    await kitchen.start()
    async with hub_with({"kitchen": {"uri": kitchen.uri}}) as run:
        await _connected(kitchen)
        await kitchen.say(_command("Set a timer for three seconds."))
        await until(lambda: bool(run.audit("result")))
        set_at = time.monotonic()
        await until(lambda: any(t > set_at + 2.0 for t in kitchen.speaker.played), 20.0)
        assert [r["tool"] for r in run.audit("result")] == ["set_timer"]
    await kitchen.kill()
