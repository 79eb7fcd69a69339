"""Voice benchmark on the real engines: spoken commands in several voices and noise levels.

    python benchmarks/voice.py                     # full run, report in benchmarks/reports
    python benchmarks/voice.py --quick             # a few commands, a few minutes of audio

Each command is its own short session (wake word, pause, command, silence) through the
whole pipeline. Prints wake detection rate, word error rate, intent accuracy from audio,
latency from the real end of speech to the action (wall clock: the endpointer's silence
window as audio time plus processing time), time to first reply audio, peak RSS, and false
wakes per hour over ordinary speech and noise.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import resource
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from assistant.audio import AudioChunk  # noqa: E402
from assistant.audio.wavfile import WavFileSink, WavFileSource, write_wav  # noqa: E402
from assistant.config import AssistantConfig, SpeechToTextConfig  # noqa: E402
from assistant.events import Event  # noqa: E402
from assistant.nlu.normalize import normalize  # noqa: E402
from assistant.wiring import (  # noqa: E402
    Engines,
    build_assistant,
    build_engines,
    build_voice_pipeline,
)
from tests.speech import espeak, noise, piper, speech_rms, with_noise  # noqa: E402

COMMANDS: list[tuple[str, str, dict[str, Any]]] = [
    ("Set the temperature to twenty one degrees.", "set_temperature",
     {"celsius": 21, "zone": "all"}),
    ("Make it a little warmer.", "change_temperature", {"delta": 1, "zone": "all"}),
    ("Set the fan speed to three.", "set_fan_speed", {"level": 3}),
    ("Turn on the air conditioning.", "set_air_conditioning", {"on": True}),
    ("Turn on the rear defroster.", "set_defrost", {"target": "rear", "on": True}),
    ("Set my seat heater to two.", "set_seat_heater", {"seat": "driver", "level": 2}),
    ("Open the driver window halfway.", "set_window", {"window": "driver", "position": 50}),
    ("Close all the windows.", "set_window", {"window": "all", "position": 0}),
    ("Lock the doors.", "lock_doors", {}),
    ("Unlock the doors.", "unlock_doors", {}),
    ("Navigate to the airport.", "navigate_to", {"destination": "the airport"}),
    ("Find the nearest gas station.", "find_nearby", {"category": "fuel"}),
    ("Cancel navigation.", "cancel_navigation", {}),
    ("Set the volume to forty.", "set_volume", {"level": 40}),
    ("Turn the volume down.", "change_volume", {"delta": -10}),
    ("Play some jazz.", "play_media", {"query": "some jazz"}),
    ("Pause the music.", "pause_media", {}),
    ("Turn on the high beams.", "set_headlights", {"mode": "high"}),
    ("How much fuel do I have?", "get_vehicle_status", {"item": "fuel"}),
    ("Start press one.", "start_machine", {"machine": "press_1"}),
    ("Stop the lathe.", "stop_machine", {"machine": "lathe"}),
    ("Emergency stop.", "emergency_stop", {}),
    ("Set conveyor two to fifty percent.", "set_conveyor_speed",
     {"conveyor": "conveyor_2", "percent": 50}),
    ("What is the status of the welder?", "get_machine_status", {"machine": "welder"}),
    ("Acknowledge the alarm on the mixer.", "acknowledge_alarm", {"machine": "mixer"}),
    ("How many parts has line one made?", "get_production_count", {"line": "line_1"}),
    ("Log a maintenance note for the packer that the belt is worn.", "log_maintenance_note",
     {"machine": "packer", "note": "the belt is worn"}),
    ("Set a timer for five minutes.", "set_timer", {"seconds": 300}),
    ("Cancel the timer.", "cancel_timer", {}),
    ("What time is it?", "get_time", {}),
    ("Stop press two.", "stop_machine", {"machine": "press_2"}),
    ("Start the welder.", "start_machine", {"machine": "welder"}),
    ("Set the temperature to nineteen degrees on the passenger side.", "set_temperature",
     {"celsius": 19, "zone": "passenger"}),
    ("Open the passenger window a crack.", "set_window", {"window": "passenger", "position": 10}),
    ("Turn off the fan.", "set_fan_speed", {"level": 0}),
]

RSS_COMMANDS = COMMANDS[:8]
"""The session whose pipeline RSS is measured in its own process."""

VOICES = {
    "piper-joe": lambda text: piper(text, vary=True),
    "espeak-us": lambda text: espeak(text, "en-us", 150),
    "espeak-gb-m3": lambda text: espeak(text, "en-gb+m3", 140),
}
CONDITIONS: dict[str, float | None] = {"clean": None, "20dB": 20.0, "10dB": 10.0}
DECISIONS = ("action", "confirm", "refused")

FALSE_WAKE_TALK = [
    "We drove to the coast last weekend and the traffic was terrible.",
    "Could you pass me the water bottle from the back seat?",
    "The meeting has been moved to Thursday afternoon at three.",
    "I think the blue jacket looks better than the green one.",
    "My brother says the new restaurant downtown is really good.",
    "Remember to pick up milk and bread on the way home.",
    "The forecast says it will rain all day tomorrow.",
    "She finished the report just before the deadline.",
    "Turn left at the next junction and then keep right.",
    "The kids are playing football in the park.",
    "Harvest season starts early this year in the valley.",
    "We need to order more screws for the assembly line.",
    "The press on line two makes a strange noise sometimes.",
    "Hey, did you see the game last night? It was amazing.",
    "Can you hear me in the back? The radio is quite loud.",
    "The delivery truck is parked outside gate four.",
    "Did anyone check the oil pressure on the forklift this morning?",
    "Let's stop for coffee after the next exit.",
    "My sister is starting a new job in Manchester next month.",
    "The shift supervisor wants the report by five o'clock.",
    "Hey, are you coming to the barbecue on Saturday?",
    "There's a lot of traffic on the bridge again.",
    "The temperature in the warehouse was really high yesterday.",
    "I left my phone charger in the other car.",
    "Hey there, long time no see, how have you been?",
    "The new conveyor belt arrived but nobody installed it yet.",
    "We should leave early to avoid the rush hour.",
    "The welding masks are in the cabinet by the door.",
    "Honestly, I prefer tea to coffee in the afternoon.",
    "Jasmine and Harvey are driving up from the south tomorrow.",
    "Are you sure we turned off the lights at home?",
    "Hey, watch out for the cyclist on the right.",
    "The quarterly numbers look better than expected.",
    "Can you believe how expensive parking is downtown?",
    "Our mechanic says the brakes need replacing soon.",
]

NAME_MENTIONS = [
    "That old film had a butler called Jarvis, I think.",
    "Jarvis from accounts is retiring next week.",
    "Have you read the book about Jarvis Cocker?",
]
"""Ordinary talk that says the wake word's name: reported on its own line."""


@dataclass
class Outcome:
    voice: str
    condition: str
    text: str
    woke: bool
    transcript: str
    correct: bool
    latency_ms: float | None = None
    processing_ms: float | None = None
    first_audio_ms: float | None = None
    errors: list[str] = field(default_factory=list)


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    ref = normalize(reference).digits.split()
    hyp = normalize(hypothesis).digits.split()
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                           previous + (word != other))
    return row[len(hyp)], len(ref)


def _speech_end(samples: np.ndarray) -> float:
    """Seconds into ``samples`` where the voiced part ends (TTS adds trailing silence)."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160).astype(np.float64)
    levels = np.sqrt(np.mean(frames ** 2, axis=1))
    loud = np.nonzero(levels > speech_rms(samples) / 20)[0]
    return (loud[-1] + 1) * 0.01 if loud.size else len(samples) / 16000


class TimedSink(WavFileSink):
    def __init__(self) -> None:
        super().__init__(None)
        self.first_play_wall: float | None = None

    async def play(self, chunk: AudioChunk) -> None:
        if self.first_play_wall is None:
            self.first_play_wall = time.perf_counter()
        await super().play(chunk)


class LiveTimeline:
    """Lays the pipeline's work on a live microphone's timeline: each chunk arrives at its
    end (audio time) and is taken once it has arrived and the work before it is done, so
    time spent transcribing delays what follows exactly as it would live."""

    def __init__(self, source: WavFileSource) -> None:
        self.source = source
        self._walls: list[float] = []
        self._starts_ms: list[float] = []

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        async for chunk in self.source.chunks():
            wall = time.perf_counter()
            start = max(self.live_ms(wall), chunk.end_ms)
            self._walls.append(wall)
            self._starts_ms.append(start)
            yield chunk

    def live_ms(self, wall: float) -> float:
        """Live time (ms of audio since the start) at a wall-clock moment of the run."""
        index = bisect.bisect_right(self._walls, wall) - 1
        if index < 0:
            return 0.0
        return self._starts_ms[index] + (wall - self._walls[index]) * 1000

    async def aclose(self) -> None:
        await self.source.aclose()


async def run_one(engines: Engines, classifier: Any, audio: np.ndarray,
                  folder: Path) -> tuple[list[tuple[float, Event]], TimedSink, LiveTimeline]:
    path = folder / "bench.wav"
    write_wav(path, audio)
    timed: list[tuple[float, Event]] = []
    sink = TimedSink()
    engines.wake.reset()
    timeline = LiveTimeline(WavFileSource(path, trailing_silence_ms=2000))
    voice = build_voice_pipeline(source=timeline, sink=sink,
                                 emit=lambda e: timed.append((time.perf_counter(), e)),
                                 engines=engines, classifier=classifier,
                                 audit_path=folder / "audit.jsonl")
    await voice.pipeline.run()
    voice.assistant.audit.close()
    return timed, sink, timeline


def evaluate(outcome_events: list[tuple[float, Event]], sink: TimedSink, timeline: LiveTimeline,
             expected: tuple[str, dict[str, Any]], end_of_speech_ms: float) -> dict[str, Any]:
    events = [e for _, e in outcome_events]
    kinds = [e.TYPE.value for e in events]
    transcript = next((e.to_json()["text"] for e in events if e.TYPE.value == "transcript"), "")
    intent = next((e.to_json() for e in events if e.TYPE.value == "intent"), None)
    correct = intent is not None and (intent["tool"], intent["arguments"]) == expected
    result: dict[str, Any] = {"woke": "wake" in kinds, "transcript": transcript,
                              "correct": correct}
    ended = next((e for e in events if e.TYPE.value == "speech_end"), None)
    decided = next((w for w, e in outcome_events if e.TYPE.value in (*DECISIONS, "clarify")),
                   None)
    if ended is not None and decided is not None:
        decided_ms = timeline.live_ms(decided)
        result["processing_ms"] = decided_ms - ended.t_ms
        result["latency_ms"] = decided_ms - end_of_speech_ms
        if sink.first_play_wall is not None:
            result["first_audio_ms"] = timeline.live_ms(sink.first_play_wall) - end_of_speech_ms
    return result


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def false_wakes(engines: Engines, minutes: float,
                      folder: Path) -> tuple[list[str], float]:
    """Ordinary talk in three voices and stretches of noise, through the wake detector;
    what woke it, and the seconds of audio."""
    pieces: list[np.ndarray] = []
    starts: list[int] = []
    labels: list[str] = []
    voice_names = list(VOICES)
    total = 0.0
    voices = list(VOICES.values())
    index = 0
    rng = np.random.default_rng(11)
    speech_cache = [voices[v](s) for v in range(len(voices)) for s in FALSE_WAKE_TALK]
    while total < minutes * 60:
        if index % 5 == 4:  # a stretch of road, machine or fan noise alone
            color = ["pinknoise", "brownnoise", "whitenoise"][index % 3]
            clip = (noise(rng.uniform(5, 20), color, seed=index) // 4).astype(np.int16)
            labels.append(color)
        else:
            snr = [None, 20.0, 10.0][index % 3]
            clip = with_noise(speech_cache[index % len(speech_cache)], snr, seed=index)
            which = index % len(speech_cache)
            labels.append(f"{voice_names[which // len(FALSE_WAKE_TALK)]} "
                          f"{'clean' if snr is None else f'{snr:.0f} dB'}: "
                          f"{FALSE_WAKE_TALK[which % len(FALSE_WAKE_TALK)]!r}")
        starts.append(sum(len(p) for p in pieces))
        pieces += [clip,
                   np.zeros(int(16000 * rng.uniform(0.3, 2.0)), dtype=np.int16)]
        total += (len(pieces[-1]) + len(pieces[-2])) / 16000
        index += 1
    audio = np.concatenate(pieces)
    engines.wake.reset()
    woke: list[str] = []
    raw = audio.tobytes()
    step = 2560
    for start in range(0, len(raw), step):
        chunk = AudioChunk(raw[start:start + step], start / 32.0)
        if await engines.wake.process(chunk) is not None:
            clip = max(0, bisect.bisect_right(starts, start // 2) - 1)
            woke.append(f"{labels[clip]} at {start / 32000:.1f} s")
    return woke, len(audio) / 16000


def pipeline_rss(folder: Path) -> tuple[float, float]:
    """Peak RSS (MB) of ``assistant run --input`` in its own process, and the session's
    length (s): the appliance's footprint without this benchmark's speech making."""
    wake = piper("Hey Jarvis.")
    pieces: list[np.ndarray] = [np.zeros(16000, dtype=np.int16)]
    for text, _tool, _arguments in RSS_COMMANDS:
        pieces += [wake, np.zeros(6400, dtype=np.int16), piper(text),
                   np.zeros(3 * 16000, dtype=np.int16)]
    audio = np.concatenate(pieces)
    path = folder / "session.wav"
    write_wav(path, audio)
    command = [str(Path(sys.executable).parent / "assistant"), "run", "--input", str(path),
               "--json", "--audit-log", str(folder / "rss-audit.jsonl")]
    # A small parent, so the children's peak is the assistant's own and not this process's
    # pages that a fork would count.
    measure = ("import resource, subprocess, sys; "
               "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", measure, *command], check=True,
                          capture_output=True, text=True, timeout=600)
    return int(done.stdout.split()[-1]) / 1024, len(audio) / 16000


async def name_mentions(engines: Engines) -> tuple[int, int]:
    """How many sentences that say the name (each voice, clean and 20 dB) woke it."""
    woke = total = 0
    for say in VOICES.values():
        for sentence in NAME_MENTIONS:
            for snr in (None, 20.0):
                audio = with_noise(np.concatenate([np.zeros(8000, dtype=np.int16), say(sentence),
                                                   np.zeros(8000, dtype=np.int16)]), snr)
                engines.wake.reset()
                raw = audio.tobytes()
                hits = [await engines.wake.process(AudioChunk(raw[i:i + 2560], i / 32.0))
                        for i in range(0, len(raw), 2560)]
                woke += any(h is not None for h in hits)
                total += 1
    return woke, total


async def main_async(args: argparse.Namespace) -> str:
    folder = HERE / "reports" / "voice-work"
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    assistant = build_assistant(lambda _e: None, audit_path=folder / "audit.jsonl")
    engines = build_engines(AssistantConfig(speech_to_text=SpeechToTextConfig(
        whisper_window_s=args.whisper_window)), assistant)
    classifier = assistant.understanding.classifier
    load_s = time.perf_counter() - started
    commands = COMMANDS[: args.commands] if args.commands else COMMANDS
    outcomes: list[Outcome] = []
    wake_phrase = {name: say("Hey Jarvis.") for name, say in VOICES.items()}
    for voice_name, say in VOICES.items():
        for text, tool, arguments in commands:
            spoken = say(text)
            for condition, snr in CONDITIONS.items():
                lead = np.zeros(16000, dtype=np.int16)
                gap = np.zeros(int(16000 * 0.4), dtype=np.int16)
                clean = np.concatenate([lead, wake_phrase[voice_name], gap, spoken])
                end_ms = (len(clean) - len(spoken)) / 16 + _speech_end(spoken) * 1000
                audio = with_noise(np.concatenate([clean, np.zeros(16000, dtype=np.int16)]),
                                   snr, seed=len(outcomes))
                timed, sink, timeline = await run_one(engines, classifier, audio, folder)
                result = evaluate(timed, sink, timeline, (tool, arguments), end_ms)
                outcomes.append(Outcome(voice_name, condition, text, result["woke"],
                                        result["transcript"], result["correct"],
                                        result.get("latency_ms"), result.get("processing_ms"),
                                        result.get("first_audio_ms")))
                print(f"{voice_name:12} {condition:5} {'ok ' if result['correct'] else 'BAD'} "
                      f"{text!r} -> {result['transcript']!r}", file=sys.stderr)
    woke, seconds = await false_wakes(engines, args.false_wake_minutes, folder)
    mentions = await name_mentions(engines)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pipeline_mb, session_s = pipeline_rss(folder)
    await engines.aclose()
    return render(outcomes, woke, seconds, peak_mb=(peak_mb, pipeline_mb, session_s),
                  load_s=load_s, args=args,
                  mentions=mentions)


def render(outcomes: list[Outcome], woke: list[str], seconds: float, *,
           peak_mb: tuple[float, float, float],
           load_s: float, args: argparse.Namespace, mentions: tuple[int, int]) -> str:
    lines = [
        "# Voice benchmark", "",
        f"`python benchmarks/voice.py{' --quick' if args.quick else ''}` on this machine; "
        f"{len(outcomes)} spoken commands ({len(VOICES)} voices x {len(CONDITIONS)} conditions); "
        f"engines loaded in {load_s:.1f} s.", "",
        "| condition | wake detected | intent accuracy | WER | latency p50 / p95 (ms) "
        "| processing p50 (ms) | first reply audio p50 / p95 (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    by_condition: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_condition[outcome.condition].append(outcome)
    for condition, group in [*by_condition.items(), ("all", outcomes)]:
        errors = words = 0
        for o in group:
            e, n = word_errors(o.text, o.transcript)
            errors, words = errors + e, words + n
        latency = [o.latency_ms for o in group if o.latency_ms is not None]
        processing = [o.processing_ms for o in group if o.processing_ms is not None]
        first = [o.first_audio_ms for o in group if o.first_audio_ms is not None]
        lines.append(
            f"| {condition} | {sum(o.woke for o in group) / len(group):.1%} | "
            f"{sum(o.correct for o in group) / len(group):.1%} | {errors / max(words, 1):.1%} | "
            f"{pct(latency, 0.5):.0f} / {pct(latency, 0.95):.0f} | {pct(processing, 0.5):.0f} | "
            f"{pct(first, 0.5):.0f} / {pct(first, 0.95):.0f} |")
    wakes = len(woke)
    per_hour = wakes / (seconds / 3600)
    lines += [
        "",
        f"- false wakes: {wakes} in {seconds / 60:.1f} min of ordinary speech and noise "
        f"= {per_hour:.2f} per hour ({len(FALSE_WAKE_TALK)} sentences x {len(VOICES)} voices, "
        "clean, 20 dB and 10 dB, with stretches of pink, brown and white noise)",
        *(f"  - woke on {what}" for what in woke),
        f"- sentences that say the name (\"a butler called Jarvis\"): {mentions[0]} of "
        f"{mentions[1]} woke it (reported apart: the model keys on the name itself)",
        f"- peak RSS of the pipeline: {peak_mb[1]:.0f} MB (`assistant run --input` on a "
        f"{peak_mb[2]:.0f} s session of {len(RSS_COMMANDS)} spoken commands, its own process); "
        f"of this benchmark's process, which also makes the test speech: {peak_mb[0]:.0f} MB",
        "- latency = from the real end of speech to the action, confirmation, refusal or "
        "question (a read-back), on "
        "a live microphone's timeline: each 80 ms chunk arrives at its end and is taken once "
        "the work before it is done (wall clock), so the end silence, transcription at "
        "pauses and any backlog all count. Processing = from the endpoint the pipeline "
        "chose (a pause or the end silence) to the action.",
        "",
        "Misses:", "",
        *(f"- {o.voice} {o.condition}: `{o.text}` heard as `{o.transcript}`"
          + ("" if o.woke else " (no wake)") for o in outcomes if not o.correct),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 commands, 3 minutes of talk")
    parser.add_argument("--commands", type=int, default=0, help="use the first N commands")
    parser.add_argument("--false-wake-minutes", type=float, default=120.0)
    parser.add_argument("--whisper-window", type=float,
                        default=SpeechToTextConfig().whisper_window_s,
                        help="seconds of audio Whisper's encoder looks at")
    parser.add_argument("--report", type=Path, default=HERE / "reports" / "voice.md")
    args = parser.parse_args()
    if args.quick:
        args.commands = args.commands or 8
        args.false_wake_minutes = min(args.false_wake_minutes, 3.0)
    report = asyncio.run(main_async(args))
    print(report)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
