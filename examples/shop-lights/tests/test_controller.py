"""The lights controller client against the simulated controller on loopback: the line
protocol, and a controller that is dead, hung or says no."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from assistant.skill_api import BackendError, UnconfirmedError

from shop_lights_skill import ControllerSimulator, LightsController, SimulatedShop

LIMIT = 5.0


@pytest.fixture
async def shop() -> AsyncIterator[tuple[SimulatedShop, LightsController]]:
    simulated = SimulatedShop.dark(["hall", "yard"])
    simulator = ControllerSimulator(simulated)
    await simulator.start()
    try:
        yield simulated, LightsController("127.0.0.1", simulator.port, timeout_s=0.3)
    finally:
        await simulator.stop()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_a_zone_is_switched_and_read_back(
        shop: tuple[SimulatedShop, LightsController]) -> None:
    simulated, controller = shop
    await asyncio.wait_for(controller.set_zone("yard", True), LIMIT)
    assert simulated.zones == {"hall": False, "yard": True}
    assert await asyncio.wait_for(controller.zone_lit("yard"), LIMIT) is True
    assert await asyncio.wait_for(controller.zone_lit("hall"), LIMIT) is False


async def test_the_horn_is_sounded_for_its_seconds(
        shop: tuple[SimulatedShop, LightsController]) -> None:
    simulated, controller = shop
    await asyncio.wait_for(controller.sound_horn(3), LIMIT)
    assert simulated.horn_tests == [3]


async def test_a_refusal_carries_the_controllers_reason(
        shop: tuple[SimulatedShop, LightsController]) -> None:
    _, controller = shop
    with pytest.raises(BackendError, match="unknown zone kitchen") as raised:
        await asyncio.wait_for(controller.set_zone("kitchen", True), LIMIT)
    assert raised.value.code == "shop-lights-refused"


async def test_a_dead_controller_is_a_backend_error_that_says_what_to_check() -> None:
    controller = LightsController("127.0.0.1", _closed_port(), timeout_s=0.3)
    with pytest.raises(BackendError) as raised:
        await asyncio.wait_for(controller.set_zone("hall", True), LIMIT)
    assert not isinstance(raised.value, UnconfirmedError)
    assert raised.value.code == "shop-lights-unreachable"
    assert "check that it is powered" in raised.value.message
    assert "skills.shop_lights" in raised.value.message


async def test_a_command_taken_and_never_answered_is_unconfirmed(
        shop: tuple[SimulatedShop, LightsController]) -> None:
    simulated, controller = shop
    simulated.answering = False
    with pytest.raises(UnconfirmedError):
        await asyncio.wait_for(controller.set_zone("hall", True), LIMIT)
    assert simulated.zones["hall"] is True


async def test_a_question_never_answered_is_a_failure_not_unconfirmed(
        shop: tuple[SimulatedShop, LightsController]) -> None:
    simulated, controller = shop
    simulated.answering = False
    with pytest.raises(BackendError) as raised:
        await asyncio.wait_for(controller.zone_lit("hall"), LIMIT)
    assert raised.value.code == "shop-lights-no-answer"


async def test_something_else_answering_on_the_port_is_no_controller() -> None:
    async def web_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"HTTP/1.1 400 Bad Request\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(web_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(BackendError) as raised:
            await asyncio.wait_for(
                LightsController("127.0.0.1", port, timeout_s=0.3).set_zone("hall", True), LIMIT)
    finally:
        server.close()
        await server.wait_closed()
    assert raised.value.code == "shop-lights-bad-answer"
    assert "no lights controller" in raised.value.message
