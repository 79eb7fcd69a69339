"""A simulated lights controller: a TCP server on loopback that speaks the controller's
line protocol (see :mod:`shop_lights_skill.controller`) over an in-memory shop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["ControllerSimulator", "SimulatedShop"]

_HORN_SECONDS = range(1, 11)


@dataclass
class SimulatedShop:
    """The shop the simulated controller switches: each zone's lights, each horn test."""

    zones: dict[str, bool]
    horn_tests: list[int] = field(default_factory=list)
    answering: bool = True
    """False: commands are carried out and never answered (a controller that hangs)."""

    @classmethod
    def dark(cls, zones: Iterable[str]) -> SimulatedShop:
        return cls({zone: False for zone in zones})

    def answer(self, line: str) -> str:
        """The controller's answer to one command line (carried out first)."""
        match line.split():
            case ["SET", zone, ("ON" | "OFF") as state] if zone in self.zones:
                self.zones[zone] = state == "ON"
                return "OK"
            case ["GET", zone] if zone in self.zones:
                return "ON" if self.zones[zone] else "OFF"
            case ["SET" | "GET", zone, *_]:
                return f"ERR unknown zone {zone}; zones: {' '.join(self.zones)}"
            case ["HORN", seconds] if seconds.isdigit() and int(seconds) in _HORN_SECONDS:
                self.horn_tests.append(int(seconds))
                return "OK"
            case ["HORN", *_]:
                return "ERR the horn sounds for 1 to 10 seconds"
        return f"ERR unknown command {line[:40]!r}"


class ControllerSimulator:
    """Serves ``shop`` on ``host:port`` (port 0: a free one, read back from :attr:`port`)."""

    def __init__(self, shop: SimulatedShop, host: str = "127.0.0.1", port: int = 0) -> None:
        self.shop = shop
        self.host = host
        self._requested_port = port
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self._requested_port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in self._clients:
                task.cancel("the simulator stops")
            await asyncio.gather(*self._clients, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._clients.add(task)
        try:
            while line := await reader.readline():
                answer = self.shop.answer(line.decode("ascii", errors="replace").strip())
                if self.shop.answering:
                    writer.write(f"{answer}\n".encode("ascii"))
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to answer
        finally:
            if task is not None:
                self._clients.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
