"""``assistant wyoming``: the Wyoming services (asr, tts, wake, intent, handle) on one
address, for Home Assistant or another hub; see :mod:`assistant.satellites.server`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from urllib.parse import urlparse

from wyoming.server import AsyncServer

from assistant.config import AssistantConfig
from assistant.logs import event_logger
from assistant.plugins import installed_skill_names
from assistant.satellites.info import service_info
from assistant.satellites.server import Brain, WyomingHandler
from assistant.service import Notifier, SystemdNotifier
from assistant.simulators import simulated_buses
from assistant.wiring import build_assistant, build_engines

__all__ = ["serve_wyoming"]

_LOG = logging.getLogger("assistant.wyoming")
_LOCAL = {"127.0.0.1", "localhost", "::1"}


async def serve_wyoming(config: AssistantConfig, *, uri: str | None = None,
                        notifier: Notifier | None = None,
                        started: asyncio.Event | None = None) -> int:
    """Serve until cancelled (SIGTERM). ``started`` is set once the address listens."""
    notifier = notifier or SystemdNotifier()
    uri = uri or config.wyoming.uri
    host = urlparse(uri).hostname or ""
    if uri.startswith("tcp://") and host not in _LOCAL:
        _LOG.warning("listening on %s: reachable from other machines, as configured", uri)
    emit = event_logger()
    async with simulated_buses(config.skill_configs(),
                                   config.skills.enabled or installed_skill_names()) as simulators:
        assistant = await asyncio.to_thread(build_assistant, emit, config,
                                            skill_configs=simulators.configs, connect=True)
        engines = await asyncio.to_thread(build_engines, config, assistant)
        engines.attach_model_to(assistant.understanding)
        assert engines.new_wake is not None
        services = frozenset(config.wyoming.services)
        brain = Brain(assistant, engines.stt, engines.tts, engines.new_wake,
                      service_info(config, services, assistant.dispatcher.catalog.tools),
                      services, emit, confirm_seconds=config.skills.confirm_seconds)
        numbers = itertools.count(1)
        server = AsyncServer.from_uri(uri)
        try:
            await assistant.start()
            await server.start(lambda reader, writer: WyomingHandler(
                reader, writer, brain=brain, connection=f"connection-{next(numbers)}"))
            _LOG.info("wyoming services ready", extra={"uri": uri,
                                                       "services": sorted(services)})
            notifier.notify("READY=1")
            notifier.notify(f"STATUS=serving {', '.join(sorted(services))} on {uri}")
            if started is not None:
                started.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
        finally:
            notifier.notify("STOPPING=1")
            await server.stop()
            await engines.aclose()
            await assistant.aclose()
    return 0
