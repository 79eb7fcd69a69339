"""``assistant serve``: the appliance's main job, as systemd runs it.

Configuration from the file, the simulators it asks for, the microphone and speaker, events
and logs as journal lines on standard output, readiness and the watchdog through the notify
socket. SIGTERM stops it cleanly (STOPPING=1, buses closed, audit log flushed); SIGHUP
(``systemctl reload``) reloads the skills without touching the audio (see
:mod:`assistant.reload`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path

from assistant.audio import AudioSink, AudioSource, NullSink
from assistant.config import AssistantConfig
from assistant.logs import event_logger
from assistant.plugins import installed_skill_names
from assistant.reload import SkillReloader, reload_on_hangup
from assistant.service import Notifier, SystemdNotifier, Watchdog, watchdog_interval_s
from assistant.simulators import simulated_buses
from assistant.wiring import build_assistant, build_engines, build_voice_pipeline

__all__ = ["serve"]

_LOG = logging.getLogger("assistant.service")


async def serve(config: AssistantConfig, *, input_path: Path | None = None,
                notifier: Notifier | None = None,
                reread: Callable[[], AssistantConfig] | None = None) -> int:
    """Run until SIGTERM (or, with ``input_path``, until the file ends). ``reread`` gives
    the configuration afresh for a reload (default: ``config`` as it was at start)."""
    notifier = notifier or SystemdNotifier()
    notifier.notify("STATUS=starting: loading models and connecting buses")
    if config.satellites and input_path is None:
        return await serve_satellites(config, notifier)
    async with simulated_buses(config.skill_configs(),
                                   config.skills.enabled or installed_skill_names()) as simulators:
        for running in simulators.running:
            _LOG.info("simulator started", extra={"simulator": running})
        source: AudioSource
        sink: AudioSink
        if input_path is not None:
            from assistant.audio.wavfile import WavFileSource

            source, sink = WavFileSource(input_path), NullSink()
        else:
            from assistant.audio.device import MicrophoneSource, SpeakerSink

            source = MicrophoneSource(config.audio.input_device or None)
            sink = SpeakerSink(config.audio.output_device or None)
        audit_path = config.audit_path()
        emit = event_logger()
        session = await asyncio.to_thread(
            build_voice_pipeline, source=source, sink=sink, emit=emit, config=config,
            skill_configs=simulators.configs, paced=input_path is None, connect=True)
        pipeline = session.pipeline
        tasks: list[asyncio.Task[None]] = []
        reloader = SkillReloader(
            session, emit=emit, notifier=notifier, reread=reread or (lambda: config),
            connect=True,
            # the simulators are not restarted: their skills keep what reaches them
            skill_configs=lambda fresh: {**fresh.skill_configs(), **{
                name: simulators.configs[name] for name in simulators.simulated}})
        stop_reloading = reload_on_hangup(reloader)
        try:
            await session.assistant.start()
            run = asyncio.get_running_loop().create_task(pipeline.run(), name="voice-pipeline")
            tasks.append(run)
            interval = watchdog_interval_s()
            if interval is not None:
                watchdog = Watchdog(lambda: pipeline.progress, notifier, interval_s=interval,
                                    stall_s=config.service.watchdog_stall_s)
                tasks.append(asyncio.get_running_loop().create_task(watchdog.run(),
                                                                    name="watchdog"))
            _stop_on_signals(run)
            _LOG.info("ready", extra={"wake_word": config.wake.model, "audit_log":
                                      str(audit_path), "watchdog_interval_s": interval})
            notifier.notify("READY=1")
            notifier.notify(f"STATUS=listening for {config.wake.model}")
            with contextlib.suppress(asyncio.CancelledError):
                await run
        finally:
            notifier.notify("STOPPING=1")
            stop_reloading()
            await reloader.aclose()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await source.aclose()
            await sink.aclose()
            await session.aclose()
            _LOG.info("stopped")
    return 0


def _stop_on_signals(task: asyncio.Task[None]) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, task.cancel)


async def serve_satellites(config: AssistantConfig, notifier: Notifier) -> int:
    """The hub: no microphone here; every ``[satellites.<name>]`` is connected to, and
    served by the engines loaded once (:mod:`assistant.satellites.hub`)."""
    from assistant.satellites.hub import Hub

    emit = event_logger()
    async with simulated_buses(config.skill_configs(),
                                   config.skills.enabled or installed_skill_names()) as simulators:
        assistant = await asyncio.to_thread(build_assistant, emit, config,
                                            skill_configs=simulators.configs, connect=True)
        engines = await asyncio.to_thread(build_engines, config, assistant, paced=True,
                                          parallel=max(1, min(2, os.cpu_count() or 1)))
        engines.attach_model_to(assistant.understanding)
        hub = Hub.of(config, assistant, engines,
                     lambda name: event_logger(context={"satellite": name}))
        tasks: list[asyncio.Task[None]] = []
        try:
            await assistant.start()
            run = asyncio.get_running_loop().create_task(hub.run(), name="hub")
            tasks.append(run)
            interval = watchdog_interval_s()
            if interval is not None:
                watchdog = Watchdog(lambda: hub.progress, notifier, interval_s=interval,
                                    stall_s=config.service.watchdog_stall_s)
                tasks.append(asyncio.get_running_loop().create_task(watchdog.run(),
                                                                    name="watchdog"))
            _stop_on_signals(run)
            _LOG.info("hub ready", extra={"satellites": sorted(config.satellites)})
            notifier.notify("READY=1")
            notifier.notify(f"STATUS=serving {len(config.satellites)} satellite(s)")
            with contextlib.suppress(asyncio.CancelledError):
                await run
        finally:
            notifier.notify("STOPPING=1")
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await engines.aclose()
            await assistant.aclose()
            _LOG.info("stopped")
    return 0
