"""Whole turns through the assistant's test harness (``assistant.testing``), with the
shop lights skill loaded alone on its simulated controller."""

from __future__ import annotations

import socket
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from shop_lights_skill import SimulatedShop

if TYPE_CHECKING:
    from assistant.testing import SkillSession

    SessionFactory = Callable[..., AbstractAsyncContextManager[SkillSession]]
    """The ``assistant_session`` fixture: ``async with assistant_session([...]) as s``."""


def _shop(session: SkillSession) -> SimulatedShop:
    shop = session.simulated("shop_lights")
    assert isinstance(shop, SimulatedShop)
    return shop


async def test_lights_are_switched_by_zone(assistant_session: SessionFactory) -> None:
    async with assistant_session(["shop_lights"], builtins=False) as session:
        turn = await session.say("turn on the hall lights")
        assert _shop(session).zones == {"hall": True, "office": False, "yard": False}
        assert turn.reply == "The hall lights are on."
        await session.say("switch the back yard lights on")
        await session.say("turn off the hall lights")
        assert _shop(session).zones == {"hall": False, "office": False, "yard": True}


async def test_a_zone_named_is_the_shops_even_with_the_vehicles_lights_loaded(
        assistant_session: SessionFactory) -> None:
    async with assistant_session(["shop_lights"], builtins=True) as session:
        turn = await session.say("turn on the yard lights")
        assert turn.calls == [("set_shop_lights", {"zone": "yard", "lit": True})]
        assert _shop(session).zones["yard"] is True


async def test_the_status_is_read_from_the_controller(
        assistant_session: SessionFactory) -> None:
    async with assistant_session(["shop_lights"], builtins=False) as session:
        _shop(session).zones["office"] = True
        turn = await session.say("are the front office lights on")
        assert turn.reply == "The office lights are on."


async def test_the_horn_sounds_only_after_a_yes(assistant_session: SessionFactory) -> None:
    async with assistant_session(["shop_lights"], builtins=False) as session:
        await session.say("test the horn for 3 seconds")
        assert _shop(session).horn_tests == []
        turn = await session.say("yes")
        assert _shop(session).horn_tests == [3]
        assert turn.reply.endswith("The horn sounded for 3 seconds.")


async def test_a_horn_test_not_confirmed_does_not_sound(
        assistant_session: SessionFactory) -> None:
    async with assistant_session(["shop_lights"], builtins=False) as session:
        await session.say("sound the horn")
        await session.say("no")
        assert _shop(session).horn_tests == []


async def test_zones_and_their_names_come_from_the_settings(
        assistant_session: SessionFactory) -> None:
    settings = {"shop_lights": {"zones": {"bay": {"name": "loading bay",
                                                  "aliases": ["dock"]}}}}
    async with assistant_session(["shop_lights"], settings=settings, builtins=False) as session:
        turn = await session.say("turn on the dock lights")
        assert _shop(session).zones == {"bay": True}
        assert turn.reply == "The loading bay lights are on."


async def test_an_unknown_zone_switches_nothing(assistant_session: SessionFactory) -> None:
    async with assistant_session(["shop_lights"], builtins=False) as session:
        turn = await session.say("turn on the kitchen lights")
        assert not any(_shop(session).zones.values())
        assert "on." not in turn.reply


async def test_a_dead_controller_is_said_with_what_to_check(
        assistant_session: SessionFactory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = {"shop_lights": {"simulate": False, "port": closed_port, "timeout_s": 0.3}}
    async with assistant_session(["shop_lights"], settings=settings, builtins=False) as session:
        turn = await session.say("turn on the hall lights")
        assert "cannot be reached" in turn.reply
        assert "check that it is powered" in turn.reply
