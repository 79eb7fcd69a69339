"""``assistant run``, ``assistant parse --audio`` and ``assistant demo``."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from assistant.audio import AudioSink, AudioSource
from assistant.audio.wavfile import WavFileSink, WavFileSource, read_wav, write_wav
from assistant.cli.output import event_printer, json_line
from assistant.config import AssistantConfig
from assistant.errors import AssistantError
from assistant.events import Event, EventSink
from assistant.wiring import build_voice_pipeline

__all__ = ["DEMO_SCRIPT", "parse_audio", "run_demo", "run_file", "run_live"]


async def run_file(input_path: Path, output_path: Path | None, out: TextIO, *, as_json: bool,
                   config: AssistantConfig, realtime: bool = False,
                   skill_configs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """The whole pipeline on a WAV file, as fast as the engines allow, or (``realtime``)
    fed at a microphone's pace while turns are worked on, as live."""
    await _run_pipeline(WavFileSource(input_path, realtime=realtime), WavFileSink(output_path),
                        event_printer(out, as_json=as_json), config, skill_configs,
                        paced=realtime)


async def run_live(out: TextIO, *, as_json: bool, config: AssistantConfig,
                   skill_configs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Microphone and speaker (as configured) until interrupted."""
    from assistant.audio.device import MicrophoneSource, SpeakerSink

    await _run_pipeline(MicrophoneSource(config.audio.input_device or None),
                        SpeakerSink(config.audio.output_device or None),
                        event_printer(out, as_json=as_json), config, skill_configs, paced=True)


async def _run_pipeline(source: AudioSource, sink: AudioSink, emit: EventSink,
                        config: AssistantConfig,
                        skill_configs: Mapping[str, Mapping[str, Any]] | None, *,
                        paced: bool, audit_path: Path | None = None) -> None:
    """The voice pipeline from ``source`` to ``sink`` until the source ends; then every
    part is closed, whatever happened."""
    session = build_voice_pipeline(source=source, sink=sink, emit=emit, config=config,
                                   skill_configs=skill_configs, paced=paced,
                                   audit_path=audit_path, connect=True)
    try:
        await session.assistant.start()
        await session.pipeline.run()
    finally:
        await source.aclose()
        await sink.aclose()
        await session.aclose()


async def parse_audio(paths: Iterable[str], out: TextIO, *, config: AssistantConfig) -> None:
    """Transcribe each WAV path and decide it, one JSON object per line; nothing runs (the
    skills get no bus)."""
    from assistant.wiring import build_assistant, build_engines

    assistant = build_assistant(lambda _event: None, config,
                                skill_configs=config.skill_configs())
    engines = build_engines(config, assistant)
    engines.attach_model_to(assistant.understanding)
    if engines.language_model_problem:
        print(f"assistant: {engines.language_model_problem}", file=sys.stderr)
    try:
        for raw in paths:
            path = raw.strip()
            result: dict[str, Any]
            try:
                audio = read_wav(Path(path))
                started = time.perf_counter()
                heard = await engines.stt.transcribe(audio.tobytes())
                stt_ms = (time.perf_counter() - started) * 1000.0
                result = (await assistant.understanding.understand(heard.text)).to_json()
                result |= {"file": path, "stt_ms": round(stt_ms, 1)}
            except AssistantError as err:
                result = {"text": "", "tool": None, "arguments": {}, "route": "none", "ms": 0.0,
                          "file": path, "stt_ms": 0.0, "error": err.message}
            out.write(json_line(result))
            out.flush()
    finally:
        await engines.aclose()


DEMO_SCRIPT: tuple[tuple[str, float], ...] = (
    ("Hey Jarvis.", 0.4),
    ("Set the temperature to twenty one degrees.", 4.0),
    ("Hey Jarvis.", 0.4),
    ("Open the driver window halfway.", 4.0),
    ("Hey Jarvis.", 0.4),
    ("I need somewhere to charge the car.", 4.0),
    ("Hey Jarvis.", 0.4),
    ("Start press one.", 3.5),
    ("Yes.", 4.0),
    ("Hey Jarvis.", 0.4),
    ("Emergency stop.", 7.5),
    ("Hey Jarvis.", 0.4),
    ("Start press one.", 4.0),
)
"""What the demo's speaker says, each line followed by that many seconds of silence."""


def synthesize_session(script: Iterable[tuple[str, float]], path: Path) -> float:
    """Speak a script with the packaged Piper voice into a 16 kHz WAV; returns seconds."""
    from piper import PiperVoice

    from assistant.audio.convert import to_assistant_rate
    from assistant.manifest import ModelManifest

    folder = ModelManifest.load().get("piper-en_US-joe-medium").verified()
    voice = PiperVoice.load(folder / "en_US-joe-medium.onnx",
                            config_path=folder / "en_US-joe-medium.onnx.json")
    pieces = [np.zeros(16000, dtype=np.int16)]
    for text, pause_s in script:
        chunks = list(voice.synthesize(text))
        audio = np.concatenate([c.audio_int16_array for c in chunks])
        pieces += [to_assistant_rate(audio, chunks[0].sample_rate, 1),
                   np.zeros(int(16000 * pause_s), dtype=np.int16)]
    session = np.concatenate(pieces)
    write_wav(path, session)
    return len(session) / 16000


async def run_demo(folder: Path, out: TextIO, *, config: AssistantConfig,
                   skill_configs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Speak a session, run it through the pipeline, print the events, keep the replies."""
    spoken = folder / "session.wav"
    replies = folder / "replies.wav"
    seconds = await asyncio.to_thread(synthesize_session, DEMO_SCRIPT, spoken)
    out.write(f"Spoke a {seconds:.1f} s session with the packaged voice into {spoken}.\n"
              "Running it through wake word, voice activity, speech-to-text, the dialogue, "
              "the dispatcher and speech output:\n\n")
    started = time.perf_counter()

    def emit(event: Event) -> None:
        data = event.to_json()
        name, t_ms = data.pop("event"), data.pop("t_ms")
        wall = (time.perf_counter() - started) * 1000.0
        details = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in data.items())
        out.write(f"  audio {t_ms / 1000:6.2f} s | wall {wall / 1000:5.2f} s | {name:10} "
                  f"{details}\n")
        out.flush()

    await _run_pipeline(WavFileSource(spoken), WavFileSink(replies), emit, config,
                        skill_configs, paced=False, audit_path=folder / "audit.jsonl")
    elapsed = time.perf_counter() - started
    out.write(f"\nProcessed {seconds:.1f} s of audio in {elapsed:.1f} s. Spoken replies: "
              f"{replies}; audit log: {folder / 'audit.jsonl'}.\n")

