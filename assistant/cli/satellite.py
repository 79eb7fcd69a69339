"""``assistant satellite``: this box as a microphone and speaker for a hub (this project's
``assistant serve`` or Home Assistant); see :mod:`assistant.satellites.device`."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from urllib.parse import urlparse

from wyoming.server import AsyncServer

from assistant.audio import AudioSink, AudioSource, NullSink
from assistant.config import AssistantConfig
from assistant.manifest import ModelManifest
from assistant.satellites.device import SatelliteDevice
from assistant.service import Notifier, SystemdNotifier

__all__ = ["run_satellite"]

_LOG = logging.getLogger("assistant.satellite")


async def run_satellite(config: AssistantConfig, *, uri: str, area: str, name: str = "",
                        wake: bool = True, input_path: Path | None = None,
                        notifier: Notifier | None = None) -> int:
    """Serve hubs until cancelled (or, with ``input_path``, until the file has been
    streamed)."""
    notifier = notifier or SystemdNotifier()
    if (urlparse(uri).hostname or "") not in {"127.0.0.1", "localhost", "::1"}:
        _LOG.warning("listening on %s: reachable from other machines, as asked", uri)
    source: AudioSource
    sink: AudioSink
    if input_path is not None:
        from assistant.audio.wavfile import WavFileSource

        source, sink = WavFileSource(input_path, realtime=True), NullSink()
    else:
        from assistant.audio.device import MicrophoneSource, SpeakerSink

        source = MicrophoneSource(config.audio.input_device or None)
        sink = SpeakerSink(config.audio.output_device or None)
    detector = None
    if wake:
        from assistant.wake.openwakeword import OpenWakeWordDetector

        section = config.wake
        detector = OpenWakeWordDetector(section.model, threshold=section.threshold,
                                        refractory_ms=section.refractory_ms,
                                        manifest=ModelManifest.load())
    device = SatelliteDevice(source, sink, detector, name=name or socket.gethostname(),
                             area=area)
    server = AsyncServer.from_uri(uri)
    await server.start(device.handler)
    _LOG.info("satellite ready", extra={"uri": uri, "area": area,
                                        "wake_word": section.model if wake else "hub's"})
    notifier.notify("READY=1")
    try:
        await device.run()
    finally:
        notifier.notify("STOPPING=1")
        await server.stop()
        await source.aclose()
        await sink.aclose()
        if detector is not None:
            await detector.aclose()
    return 0
