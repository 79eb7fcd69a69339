"""The lights controller's line protocol over TCP, and the client the skill runs on.

One command per line, one answer per line, ASCII::

    SET <zone> ON|OFF      ->  OK            switch a zone's lights
    GET <zone>             ->  ON | OFF      a zone's lights
    HORN <seconds>         ->  OK            sound the horn (1-10 s) as a test
    (anything wrong)       ->  ERR <reason>

``<zone>`` is the zone's id from the settings. The client opens a connection for each
command, so a controller that restarts needs nothing from it.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from assistant.skill_api import BackendError, UnconfirmedError

__all__ = ["LightsBackend", "LightsController"]


class LightsBackend(Protocol):
    """What the tools need of the shop's lights and horn."""

    async def set_zone(self, zone: str, lit: bool) -> None:
        """Switch a zone's lights on or off."""

    async def zone_lit(self, zone: str) -> bool:
        """Whether a zone's lights are on."""

    async def sound_horn(self, seconds: int) -> None:
        """Sound the horn for ``seconds`` as a test."""


class LightsController:
    """The lights controller at ``host:port``; every command bounded by ``timeout_s``."""

    def __init__(self, host: str, port: int, *, timeout_s: float = 1.0) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    async def set_zone(self, zone: str, lit: bool) -> None:
        await self._command(f"SET {zone} {'ON' if lit else 'OFF'}", ("OK",), changes=True)

    async def zone_lit(self, zone: str) -> bool:
        return await self._command(f"GET {zone}", ("ON", "OFF"), changes=False) == "ON"

    async def sound_horn(self, seconds: int) -> None:
        await self._command(f"HORN {seconds}", ("OK",), changes=True)

    async def _command(self, line: str, answers: tuple[str, ...], *, changes: bool) -> str:
        """Send ``line``, return the controller's answer, one of ``answers``. A controller
        that cannot be reached did nothing; one that took a command and never answered may
        have done it."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout_s)
        except (OSError, TimeoutError) as err:
            reason = "no answer" if isinstance(err, TimeoutError) else (
                err.strerror or type(err).__name__).lower()
            raise BackendError(
                "shop-lights-unreachable", f"the lights controller at {self.where} cannot be "
                f"reached ({reason}); check that it is powered, and that skills.shop_lights "
                "host and port name it") from err
        try:
            writer.write(f"{line}\n".encode("ascii"))
            answer = await asyncio.wait_for(reader.readline(), self.timeout_s)
        except (OSError, TimeoutError) as err:
            answer = b""
            cause: BaseException | None = err
        else:
            cause = None
        finally:
            writer.close()
        if not answer.endswith(b"\n"):
            if changes:
                raise UnconfirmedError(
                    "shop-lights-unconfirmed", f"the lights controller at {self.where} took "
                    f"'{line}' and never answered; look whether it happened") from cause
            raise BackendError("shop-lights-no-answer", f"the lights controller at "
                               f"{self.where} did not answer '{line}' within {self.timeout_s} s; "
                               "check that it is not overloaded or hung") from cause
        text = answer.decode("ascii", errors="replace").strip()
        if text.startswith("ERR"):
            raise BackendError("shop-lights-refused", f"the lights controller refused "
                               f"'{line}': {text.removeprefix('ERR').strip()}")
        if text not in answers:
            raise BackendError("shop-lights-bad-answer", f"what answers at {self.where} is no "
                               f"lights controller (it said {text[:40]!r} to '{line}'); check "
                               "skills.shop_lights host and port")
        return text
