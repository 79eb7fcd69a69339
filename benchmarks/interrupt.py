"""A stop said while the assistant is still thinking, on the real engines, fed at a
microphone's pace (``run --realtime``'s path).

    python benchmarks/interrupt.py              # 24 trials, report in benchmarks/reports
    python benchmarks/interrupt.py --trials 6

Each trial is one session: the wake word, a request the grammar does not take (so it goes
on to the classifier and the language model, the slowest path), a short gap, then
"emergency stop" with no wake word. Reports, over the trials, the time from the end of the
stop's speech to its ``action`` event (wall clock, p50 / p95), and what became of the
earlier request: interrupted while it was understood, or finished first (its action had
begun, or it was not understood before the stop came), or heard as nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from assistant.audio.wavfile import WavFileSink, WavFileSource, write_wav  # noqa: E402
from assistant.config import AssistantConfig  # noqa: E402
from assistant.events import Event  # noqa: E402
from assistant.wiring import (  # noqa: E402
    build_assistant,
    build_engines,
    build_voice_pipeline,
)
from benchmarks.voice import _speech_end, pct  # noqa: E402
from tests.speech import piper, silence  # noqa: E402

REQUESTS = [  # none is taken by the grammar or the classifier: each goes on to Whisper
    # base and the language model (0.3-0.75 s in the text core alone, measured here)
    "I'm boiling in the back.",
    "Can we have it a bit quieter?",
    "Make the cabin cosier.",
    "Could you make it less bright?",
    "I want it cooler on my side.",
    "Can we turn the tunes down a bit?",
]
GAPS_S = [0.2, 0.4, 0.6, 0.8]
TALK = [  # said instead of the stop, to people in the room: none may stop anything
    "The bus stop is just over there.",
    "We should stop for lunch soon.",
    "Stop worrying, it's fine.",
    "I heard the emergency services were busy.",
    "Don't stop the music, I love this one.",
    "Is that the last stop on this line?",
]


async def trial(engines: Any, classifier: Any, request: str, gap_s: float,
                folder: Path, *, said: str = "Emergency stop.") -> dict[str, Any]:
    stop = piper(said)
    pieces = [silence(0.5), piper("Hey Jarvis."), silence(0.4), piper(request),
              silence(gap_s)]
    stop_start_s = sum(len(p) for p in pieces) / 16000
    stop_end_s = stop_start_s + _speech_end(stop)
    audio = np.concatenate([*pieces, stop, silence(3.0)])
    path = folder / "session.wav"
    write_wav(path, audio)
    timed: list[tuple[float, Event]] = []
    source = WavFileSource(path, trailing_silence_ms=0, realtime=True)
    engines.wake.reset()
    session = build_voice_pipeline(source=source, sink=WavFileSink(None),
                                   emit=lambda e: timed.append((time.perf_counter(), e)),
                                   engines=engines, classifier=classifier, paced=True,
                                   audit_path=folder / "audit.jsonl")
    began = time.perf_counter()
    await session.pipeline.run()
    session.assistant.audit.close()
    events = [(w - began, e.to_json()) for w, e in timed]
    stop_at = next((w for w, e in events if e["event"] == "action"
                    and e["tool"] == "emergency_stop"), None)
    earlier = "heard as nothing"  # no words (too few to act on), so nothing to cut
    if any(e["event"] == "interrupted" for _, e in events):
        earlier = "interrupted"
    elif any(e["event"] in ("action", "refused", "clarify", "confirm") and
             e.get("tool") != "emergency_stop" for _, e in events):
        earlier = "finished first"
    elif any(e["event"] == "intent" and e["tool"] is None for _, e in events):
        earlier = "not understood"
    return {"request": request, "gap_s": gap_s, "earlier": earlier,
            "stop_ms": None if stop_at is None else (stop_at - stop_end_s) * 1000,
            "events": [e["event"] for _, e in events]}


async def main_async(args: argparse.Namespace) -> str:
    assistant = build_assistant(lambda _e: None, audit_path=Path(tempfile.mkdtemp()) / "a.jsonl")
    engines = build_engines(AssistantConfig(), assistant, paced=True)
    classifier = assistant.understanding.classifier
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(args.trials):
            request = REQUESTS[index % len(REQUESTS)]
            gap = GAPS_S[(index // len(REQUESTS)) % len(GAPS_S)]
            result = await trial(engines, classifier, request, gap, Path(folder))
            results.append(result)
            print(f"{index + 1:3} gap {gap:.1f} s  stop {result['stop_ms'] or float('nan'):6.0f} ms"
                  f"  earlier: {result['earlier']:15} {request}", flush=True)
        talk = []
        for index, said in enumerate(TALK[:args.talk]):
            request = REQUESTS[index % len(REQUESTS)]
            result = await trial(engines, classifier, request, 0.4, Path(folder), said=said)
            talk.append(result)
            print(f"talk: {'STOPPED' if result['stop_ms'] is not None else 'left alone':10} "
                  f"{said}", flush=True)
    await engines.aclose()
    latencies = [r["stop_ms"] for r in results if r["stop_ms"] is not None]
    missed = sum(r["stop_ms"] is None for r in results)
    fates = Counter(r["earlier"] for r in results)
    lines = [
        "# A stop while thinking (benchmarks/interrupt.py)", "",
        f"{len(results)} trials on the real engines, fed at a microphone's pace: wake word, a "
        "request for the classifier and language model, a gap of "
        f"{', '.join(f'{g:.1f}' for g in GAPS_S)} s, then \"emergency stop\" without a wake word.",
        "",
        "| stops acted on | end of the stop's speech → its action, p50 / p95 / max ms |"
        " earlier request |",
        "|---|---|---|",
        f"| {len(latencies)} of {len(results)} | {pct(latencies, 0.5):.0f} / "
        f"{pct(latencies, 0.95):.0f} / {max(latencies, default=float('nan')):.0f} | "
        + ", ".join(f"{k}: {v}" for k, v in sorted(fates.items())) + " |",
    ]
    if missed:
        lines += ["", f"**{missed} stops were not acted on.**"]
    false_stops = sum(r["stop_ms"] is not None for r in talk)
    lines += ["", f"Talk with stop words in it said instead, while the assistant thought "
              f"({len(talk)} sessions, e.g. \"{TALK[0]}\"): {false_stops} stopped anything."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--talk", type=int, default=len(TALK),
                        help="sessions with talk instead of the stop")
    parser.add_argument("--report", type=Path, default=HERE / "reports" / "interrupt.md")
    args = parser.parse_args()
    report = asyncio.run(main_async(args))
    print(report)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
