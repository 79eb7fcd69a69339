"""The factory skill over Modbus TCP against the PLC simulator (a real pymodbus server on
127.0.0.1): every tool round-trips, and a PLC that dies mid-command is reported and
survived."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from assistant.testing import AWAIT_LIMIT, SessionFactory, SkillSession
from skills.factory.modbus import PlcSimulator
from skills.factory.plant import SimulatedPlant, load_plant


@pytest.fixture
async def plc() -> AsyncIterator[PlcSimulator]:
    simulator = PlcSimulator(SimulatedPlant(load_plant()))
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def bus_session(plc: PlcSimulator,
                      assistant_session: SessionFactory) -> AsyncIterator[SkillSession]:
    async with assistant_session(None, settings={"factory": {"modbus": {
            "host": "127.0.0.1", "port": plc.port, "timeout_s": 0.5,
            "simulate_plc": False}}}) as session:  # the test runs its own
        # The skill builds its client on the monotonic clock; its backoff runs on the test's.
        session.backend("factory").clock = session.clock
        yield session


async def test_every_factory_tool_round_trips(bus_session: SkillSession, plc: PlcSimulator) -> None:
    plant = plc.plant
    await bus_session.say("start press one")
    await bus_session.say("yes")
    assert plant.running["press_1"]
    assert "running" in (await bus_session.say("what's the status of press one")).reply.lower()
    await bus_session.say("stop press one")
    assert not plant.running["press_1"]
    await bus_session.say("set conveyor two to 40 percent")
    assert plant.conveyor_speeds["conveyor_2"] == 40
    count = await bus_session.say("how many parts has line two made")
    assert "1237" in count.reply.replace(",", "")
    plant.raise_alarm("lathe", "jam")
    assert "jam" in (await bus_session.say("what's the status of the lathe")).reply.lower()
    await bus_session.say("acknowledge the alarm on the lathe")
    assert "lathe" not in plant.alarms
    await bus_session.say("log a maintenance note for the lathe: replaced the belt")
    await bus_session.say("emergency stop")
    assert plant.latched and plant.conveyor_speeds["conveyor_2"] == 0
    # the latched stop refuses the start before any confirmation is asked
    confirmations = len(bus_session.of("confirm"))
    assert "latched" in (await bus_session.say("start press two")).reply.lower()
    assert bus_session.of("refused")[-1]["tool"] == "start_machine"
    assert len(bus_session.of("confirm")) == confirmations
    assert not plant.running["press_2"]
    assert [(a["tool"], a["ok"]) for a in bus_session.of("action")] == [
        (tool, True) for tool in ("start_machine", "get_machine_status", "stop_machine",
                                  "set_conveyor_speed", "get_production_count",
                                  "get_machine_status", "acknowledge_alarm",
                                  "log_maintenance_note", "emergency_stop")]


async def test_a_plc_killed_mid_session_is_reported_and_survived(
    bus_session: SkillSession, plc: PlcSimulator
) -> None:
    await bus_session.say("set conveyor one to 30 percent")
    port = plc.port
    await plc.stop()
    actions = len(bus_session.of("action"))
    reply = (await bus_session.say("set conveyor one to 60 percent")).reply
    # The interlock's read finds it out before anything is written: refused, nothing done.
    assert reply.startswith("I couldn't check that it is safe") and \
        reply.endswith("so nothing was done"), reply
    assert bus_session.of("error")[-1]["code"] == "plant-unreachable"
    assert bus_session.of("refused")[-1]["tool"] == "set_conveyor_speed"
    assert len(bus_session.of("action")) == actions
    assert plc.plant.conveyor_speeds["conveyor_1"] == 30
    assert "plant controller" in bus_session.audit_path.read_text(encoding="utf-8")
    restarted = PlcSimulator(plc.plant, port=port)
    await restarted.start()
    try:
        # One failure: no new connection for the next 0.5 s, even to a PLC that is back.
        assert "I'm retrying" in (await bus_session.say("set conveyor one to 60 percent")).reply
        bus_session.clock.advance(0.25)
        assert "I'm retrying" in (await bus_session.say("set conveyor one to 60 percent")).reply
        assert plc.plant.conveyor_speeds["conveyor_1"] == 30
        bus_session.clock.advance(0.25)
        await bus_session.say("set conveyor one to 60 percent")
        assert plc.plant.conveyor_speeds["conveyor_1"] == 60
    finally:
        await restarted.stop()
    assert "lock" in (await bus_session.say("lock the doors")).reply.lower()


async def test_a_plc_killed_mid_command_is_reported_never_claimed_and_survived(
    bus_session: SkillSession, plc: PlcSimulator
) -> None:
    received, release = asyncio.Event(), asyncio.Event()
    set_speed = plc.plant.set_conveyor_speed

    async def hang_then_die(conveyor: str, percent: int) -> None:
        received.set()
        await release.wait()  # the PLC has the command and dies before answering
        await set_speed(conveyor, percent)

    plc.plant.set_conveyor_speed = hang_then_die  # type: ignore[method-assign]
    turn = asyncio.get_running_loop().create_task(
        bus_session.say("set conveyor three to 70 percent"), name="turn-in-flight")
    await asyncio.wait_for(received.wait(), AWAIT_LIMIT)
    stopping = asyncio.get_running_loop().create_task(plc.stop(), name="plc-killed")
    reply = (await asyncio.wait_for(turn, AWAIT_LIMIT)).reply
    release.set()
    await asyncio.wait_for(stopping, AWAIT_LIMIT)

    assert "confirm" in reply and "check at the plant" in reply
    [action] = [a for a in bus_session.of("action") if a["tool"] == "set_conveyor_speed"]
    assert action["ok"] is False
    [result] = [record for record in map(json.loads, bus_session.audit_path.read_text(
        encoding="utf-8").splitlines()) if record["kind"] == "result"
        and record["tool"] == "set_conveyor_speed"]
    assert (result["ok"], result["outcome"]) == (False, "unconfirmed")
    assert "stopped answering" in result["message"]
    # The loop goes on: the next command, on another bus, works.
    assert "lock" in (await bus_session.say("lock the doors")).reply.lower()


async def test_a_simulator_port_in_use_is_an_error_that_says_what_to_do(
    plc: PlcSimulator,
) -> None:
    from assistant.errors import BackendError

    second = PlcSimulator(SimulatedPlant(load_plant()), port=plc.port)
    with pytest.raises(BackendError) as raised:
        await asyncio.wait_for(second.start(), AWAIT_LIMIT)
    assert raised.value.code == "plc-simulator-failed"
    assert "factory.modbus.port = 0" in raised.value.message


async def test_a_stop_is_tried_at_once_during_the_reconnect_backoff(
    bus_session: SkillSession, plc: PlcSimulator
) -> None:
    """Issue 12: with the PLC back, "emergency stop" was "not reachable; I'm retrying" for
    8.5 s."""
    port = plc.port
    await plc.stop()
    await bus_session.say("set conveyor one to 60 percent")  # fails: the backoff begins
    restarted = PlcSimulator(plc.plant, port=port)
    await restarted.start()
    try:
        # The test's clock stands still: the backoff lasts until the stop.
        assert "I'm retrying" in (await bus_session.say("set conveyor one to 60 percent")).reply
        reply = (await bus_session.say("emergency stop")).reply
        assert restarted.plant.latched, reply
        assert bus_session.of("action")[-1]["outcome"] == "done"
        # The stop's connection serves what comes next.
        assert "latched" in (await bus_session.say("set conveyor two to 10 percent")).reply
    finally:
        await restarted.stop()


async def test_a_stop_the_plc_never_confirms_is_said_to_be_unconfirmed(
    bus_session: SkillSession, plc: PlcSimulator
) -> None:
    """Issue 12: a frozen PLC's e-stop was reported "That didn't work", yet it latched."""
    received, release = asyncio.Event(), asyncio.Event()
    stop_all = plc.plant.stop_all

    async def freeze_then_latch() -> None:
        await stop_all()  # the PLC latches, then freezes before it answers
        received.set()
        await release.wait()

    plc.plant.stop_all = freeze_then_latch  # type: ignore[method-assign]
    turn = asyncio.get_running_loop().create_task(bus_session.say("emergency stop"),
                                                  name="stop-in-flight")
    await asyncio.wait_for(received.wait(), AWAIT_LIMIT)
    reply = (await asyncio.wait_for(turn, AWAIT_LIMIT)).reply
    release.set()
    assert reply.startswith("Sent, but not confirmed") and "check at the plant" in reply
    assert "didn't work" not in reply and "nothing was done" not in reply
    action = bus_session.of("action")[-1]
    assert (action["ok"], action["outcome"]) == (False, "unconfirmed")
    assert '"outcome": "unconfirmed"' in bus_session.audit_path.read_text(encoding="utf-8")
    assert plc.plant.latched
