"""Hearing strangers: commands and ordinary talk written without the templates, spoken by
twelve voices in three kinds of noise, through the whole live pipeline.

    python benchmarks/hearing.py                  # the tuning part (data/voice_tuning.tsv)
    python benchmarks/hearing.py --quick          # 40 sentences of it, a few minutes
    python benchmarks/hearing.py --final          # the sealed final part: score it once

Each sentence is its own short session (wake word, pause, the sentence, silence) in
``--voices`` voices, each voice once clean and once in one of six noisy conditions (car
cabin, factory, babble at 20 and 10 dB SNR), rotating so that every voice meets every
condition. Reported by voice and by condition: intent accuracy, the wrong-action rate (an
action or confirmation with the wrong tool or arguments, apart from abstentions),
out-of-domain speech turned into a call, questions asked back, word error rate, latency from
the end of speech to the decision on a live microphone's timeline (p50, p95); then the
word error rate on Debian's ``pocketsphinx-testdata`` human recordings, the real-time factor
on one core (``taskset -c 0``) and the pipeline's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from voice import FALSE_WAKE_TALK, _speech_end, pct, pipeline_rss, run_one, word_errors  # noqa: E402

from assistant.audio.wavfile import read_wav  # noqa: E402
from assistant.config import AssistantConfig  # noqa: E402
from assistant.events import Event  # noqa: E402
from assistant.wiring import (  # noqa: E402
    Engines,
    build_assistant,
    build_engines,
)
from tests.speech import NOISES, espeak, mix, piper  # noqa: E402

Samples = np.ndarray
Say = Callable[[str], Samples]
RATE = 16000

VOICES: dict[str, Say] = {
    "piper-joe": lambda text: piper(text, vary=True),
    "us+f3": lambda text: espeak(text, "en-us+f3", 165, 60),
    "us-slow+m2": lambda text: espeak(text, "en-us+m2", 125, 40),
    "us-fast+f4": lambda text: espeak(text, "en-us+f4", 190, 55),
    "gb": lambda text: espeak(text, "en-gb", 155),
    "gb+f2": lambda text: espeak(text, "en-gb+f2", 150, 65),
    "scotland": lambda text: espeak(text, "en-gb-scotland", 150),
    "scotland+f3": lambda text: espeak(text, "en-gb-scotland+f3", 160, 60),
    "caribbean": lambda text: espeak(text, "en-029", 150),
    "caribbean+f1": lambda text: espeak(text, "en-029+f1", 145, 58),
    "rp": lambda text: espeak(text, "en-gb-x-rp", 160),
    "rp-fast+m4": lambda text: espeak(text, "en-gb-x-rp+m4", 185, 35),
}
CONDITIONS = ["clean", *(f"{kind} {snr} dB" for snr in (20, 10) for kind in NOISES)]
QUERIES = {"get_vehicle_status", "get_machine_status", "get_production_count", "get_time",
           "find_nearby"}
"""Tools that change nothing: an out-of-domain sentence turned into one is a miss, not harm."""
CALLS = ("action", "confirm")
DECISIONS = ("action", "confirm", "refused")


def load(path: Path) -> list[tuple[str, str | None, dict[str, Any]]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, tool, arguments = line.split("\t")
        rows.append((text, None if tool == "-" else tool, json.loads(arguments)))
    return rows


@dataclass
class Clip:
    voice: str
    condition: str
    text: str
    tool: str | None
    arguments: dict[str, Any]
    woke: bool = False
    transcript: str = ""
    outcome: str = "missed"
    """correct | asked (a question back) | wrong (a wrong call acted on or confirmed) |
    abstained | ood-call | ood-change | ood-ok"""
    latency_ms: float | None = None
    processing_s: float = 0.0
    audio_s: float = 0.0
    events: list[str] | None = None
    """The session's events in short, for reading a run afterwards (``clips.jsonl``)."""


def same_call(call: dict[str, Any], tool: str | None, arguments: dict[str, Any]) -> bool:
    """The same tool and arguments; words (destination, query, note) compared as words."""
    def plain(value: Any) -> Any:
        if isinstance(value, str):
            return " ".join("".join(c for c in value.lower() if c.isalnum() or c in " '")
                            .split())
        return value

    return call.get("tool") == tool and {k: plain(v) for k, v in
                                         call.get("arguments", {}).items()} == \
        {k: plain(v) for k, v in arguments.items()}


def judge(clip: Clip, events: list[Event]) -> None:
    records = [e.to_json() for e in events]
    kinds = [r["event"] for r in records]
    clip.woke = "wake" in kinds
    clip.transcript = next((r["text"] for r in records if r["event"] == "transcript"), "")
    clip.events = [" ".join(str(r.get(k)) for k in ("event", "tool", "route", "kind", "reason")
                            if r.get(k) is not None) for r in records
                   if r["event"] not in ("speech_start", "wake", "listening")]
    calls = [r for r in records if r["event"] in CALLS]
    asked = [r for r in records if r["event"] == "clarify"]
    if clip.tool is None:
        changes = [c for c in calls if c["tool"] not in QUERIES]
        clip.outcome = "ood-change" if changes else "ood-call" if calls else "ood-ok"
        return
    if any(same_call(c, clip.tool, clip.arguments) for c in calls):
        clip.outcome = "correct"
    elif calls:
        clip.outcome = "wrong"
    elif any(same_call(a, clip.tool, clip.arguments) for a in asked):
        clip.outcome = "asked"
    else:
        clip.outcome = "abstained"


async def run_clip(engines: Engines, classifier: Any, clip: Clip, audio: Samples, *,
                   end_ms: float, folder: Path) -> None:
    started = time.perf_counter()
    timed, _sink, timeline = await run_one(engines, classifier, audio, folder)
    clip.processing_s = time.perf_counter() - started
    clip.audio_s = len(audio) / RATE
    judge(clip, [e for _, e in timed])
    decided = next((w for w, e in timed if e.TYPE.value in (*DECISIONS, "clarify")), None)
    if decided is not None and any(e.TYPE.value == "speech_end" for _, e in timed):
        clip.latency_ms = timeline.live_ms(decided) - end_ms


def plan(rows: list[tuple[str, str | None, dict[str, Any]]], voices_per_sentence: int
         ) -> list[tuple[int, str, str]]:
    """(row, voice, condition) triples: each sentence in ``voices_per_sentence`` voices,
    each once clean and once noisy, rotating."""
    names = list(VOICES)
    triples = []
    for index in range(len(rows)):
        for k in range(voices_per_sentence):
            slot = index * voices_per_sentence + k
            voice = names[slot % len(names)]
            noisy = CONDITIONS[1 + (slot // len(names)) % (len(CONDITIONS) - 1)]
            triples += [(index, voice, "clean"), (index, voice, noisy)]
    return triples


async def measure(rows: list[tuple[str, str | None, dict[str, Any]]], args: argparse.Namespace,
                  folder: Path) -> tuple[list[Clip], float]:
    started = time.perf_counter()
    assistant = build_assistant(lambda _e: None, audit_path=folder / "audit.jsonl")
    engines = build_engines(AssistantConfig(), assistant)
    load_s = time.perf_counter() - started
    talkers = ["en-us", "en-gb+f2", "en-029", "en-us+f4"] * 9
    babble = [espeak(s, v, 160) for s, v in zip(FALSE_WAKE_TALK, talkers, strict=False)]
    wake = {name: say("Hey Jarvis.") for name, say in VOICES.items()}
    clips: list[Clip] = []
    dump = (folder / "clips.jsonl").open("w", encoding="utf-8")
    for index, voice, condition in plan(rows, args.voices):
        text, tool, arguments = rows[index]
        spoken = VOICES[voice](text)
        clean = np.concatenate([np.zeros(RATE, dtype=np.int16), wake[voice],
                                np.zeros(int(RATE * 0.4), dtype=np.int16), spoken])
        end_ms = (len(clean) - len(spoken)) / 16 + _speech_end(spoken) * 1000
        audio = mix(np.concatenate([clean, np.zeros(RATE, dtype=np.int16)]), condition,
                    seed=len(clips), babble=babble)
        clip = Clip(voice, condition, text, tool, arguments)
        await run_clip(engines, assistant.understanding.classifier, clip, audio, end_ms=end_ms,
                       folder=folder)
        clips.append(clip)
        dump.write(json.dumps(dataclasses.asdict(clip)) + "\n")
        dump.flush()
        mark = {"correct": "ok ", "ood-ok": "ok ", "asked": "ask"}.get(clip.outcome, "BAD")
        print(f"{len(clips):5} {voice:12} {condition:15} {mark} {clip.outcome:9} {text!r} -> "
              f"{clip.transcript!r}", file=sys.stderr)
    dump.close()
    await engines.aclose()
    await assistant.aclose()
    return clips, load_s


HUMAN = Path("/usr/share/pocketsphinx/test/data")


def human_recordings() -> list[tuple[Path, str]]:
    """Debian's pocketsphinx-testdata: real people reading (cards, a LibriVox chapter)."""
    pairs = []
    for folder, listing in (("cards", "cards.transcription"), ("librivox", "transcription")):
        path = HUMAN / folder / listing
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            words, _, ident = line.rpartition("(")
            words = words.replace("<s>", "").replace("</s>", "").strip()
            ident = ident.rstrip(") ").strip()
            wav = HUMAN / folder / f"{ident}.wav"
            if words and wav.is_file():
                pairs.append((wav, words))
    return pairs


async def human_wer() -> tuple[int, int, int]:
    """Word errors, reference words and recordings, through the configured recognizer."""
    assistant = build_assistant(lambda _e: None)
    engines = build_engines(AssistantConfig(), assistant)
    errors = words = 0
    pairs = human_recordings()
    for wav, reference in pairs:
        transcript = await engines.stt.transcribe(read_wav(wav).tobytes())
        e, n = word_errors(reference, transcript.text)
        errors, words = errors + e, words + n
        print(f"human {wav.name}: {reference!r} -> {transcript.text!r}", file=sys.stderr)
    await engines.aclose()
    await assistant.aclose()
    return errors, words, len(pairs)


def one_core(rows_path: Path, count: int) -> dict[str, float]:
    """The real-time factor with the whole pipeline pinned to one core, in a child process."""
    command = ["taskset", "-c", "0", sys.executable, __file__, "--rtf-child", str(count),
               "--set", str(rows_path)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=3600)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rates(group: list[Clip]) -> dict[str, float]:
    commands = [c for c in group if c.tool is not None]
    ood = [c for c in group if c.tool is None]
    errors = words = 0
    for c in commands:
        e, n = word_errors(c.text, c.transcript)
        errors, words = errors + e, words + n
    latency = [c.latency_ms for c in commands if c.latency_ms is not None]

    def share(items: list[Clip], *outcomes: str) -> float:
        return sum(c.outcome in outcomes for c in items) / max(len(items), 1)

    return {"n": len(group), "accuracy": share(commands, "correct", "asked"),
            "asked": share(commands, "asked"), "wrong": share(commands, "wrong"),
            "ood_call": share(ood, "ood-call", "ood-change"),
            "ood_change": share(ood, "ood-change"),
            "wer": errors / max(words, 1), "p50": pct(latency, 0.5), "p95": pct(latency, 0.95),
            "wake": sum(c.woke for c in group) / max(len(group), 1)}


def table(title: str, groups: dict[str, list[Clip]]) -> list[str]:
    lines = [f"| {title} | clips | wake | intent accuracy | of which asked back | wrong action "
             "| out-of-domain call (changes something) | WER | latency p50 / p95 ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, group in groups.items():
        r = rates(group)
        lines.append(f"| {name} | {r['n']:.0f} | {r['wake']:.1%} | {r['accuracy']:.1%} | "
                     f"{r['asked']:.1%} | {r['wrong']:.1%} | {r['ood_call']:.1%} "
                     f"({r['ood_change']:.1%}) | {r['wer']:.1%} | {r['p50']:.0f} / "
                     f"{r['p95']:.0f} |")
    return lines


def render(clips: list[Clip], args: argparse.Namespace, load_s: float,
           extra: list[str]) -> str:
    by_voice: dict[str, list[Clip]] = defaultdict(list)
    by_condition: dict[str, list[Clip]] = defaultdict(list)
    for clip in clips:
        by_voice[clip.voice].append(clip)
        by_condition[clip.condition].append(clip)
    commands = sum(c.tool is not None for c in clips)
    lines = ["# Hearing strangers", "",
             f"`python benchmarks/hearing.py {' '.join(args.argv)}`".replace(" `", "`") +
             f" on `{args.set.name}`: {len(clips)} clips ({commands} commands, "
             f"{len(clips) - commands} out of domain), {len(VOICES)} voices, "
             f"{len(CONDITIONS)} conditions; engines loaded in {load_s:.1f} s.", "",
             *table("condition", {**{c: by_condition[c] for c in CONDITIONS
                                     if c in by_condition},
                                  "10 dB": [c for c in clips if "10 dB" in c.condition],
                                  "all": clips}), "",
             *table("voice", dict(by_voice)), "",
             *extra, "",
             "- intent accuracy: the expected call acted on (or confirmed), or read back as a "
             "question with the right arguments (counted, and also shown apart); wrong action: "
             "an action or confirmation with another tool or other arguments; out-of-domain "
             "call: an action or confirmation from a sentence that asks for nothing (in "
             "brackets: by a tool that changes something).",
             "- latency: from the real end of speech to the decision (action, confirmation, "
             "refusal or question), on a live microphone's timeline (`voice.LiveTimeline`).",
             "", "Wrong actions and out-of-domain calls:", "",
             *(f"- {c.voice} {c.condition}: `{c.text}` heard as `{c.transcript}` ({c.outcome})"
               for c in clips if c.outcome in ("wrong", "ood-call", "ood-change")), ""]
    return "\n".join(lines)


async def rtf_child(rows: list[tuple[str, str | None, dict[str, Any]]], count: int) -> None:
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / "hearing-rtf"
    folder.mkdir(parents=True, exist_ok=True)
    args = argparse.Namespace(voices=1)
    clips, _ = await measure(rows[:count], args, folder)
    processing = sum(c.processing_s for c in clips)
    audio = sum(c.audio_s for c in clips)
    latency = [c.latency_ms for c in clips if c.latency_ms is not None]
    print(json.dumps({"rtf": processing / audio, "clips": len(clips), "p50": pct(latency, 0.5),
                      "p95": pct(latency, 0.95)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--final", action="store_true", help="the sealed final part")
    parser.add_argument("--set", type=Path, default=None, help="a sentence file")
    parser.add_argument("--quick", action="store_true", help="40 sentences, 2 voices each")
    parser.add_argument("--limit", type=int, default=0, help="the first N sentences")
    parser.add_argument("--voices", type=int, default=2, help="voices per sentence")
    parser.add_argument("--one-core-clips", type=int, default=24)
    parser.add_argument("--rtf-child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, default=None)
    args = parser.parse_args()
    args.argv = sys.argv[1:]
    args.set = args.set or HERE / "data" / ("voice_final.tsv" if args.final
                                            else "voice_tuning.tsv")
    rows = load(args.set)
    if args.rtf_child:
        asyncio.run(rtf_child(rows, args.rtf_child))
        return 0
    if args.quick:
        args.limit = args.limit or 40
        args.one_core_clips = min(args.one_core_clips, 8)
    if args.limit:
        rows = rows[: args.limit]
    folder = HERE / "reports" / "hearing-work" / args.set.stem  # runs of two sets side by side
    folder.mkdir(parents=True, exist_ok=True)
    clips, load_s = asyncio.run(measure(rows, args, folder))
    errors, words, recordings = asyncio.run(human_wer())
    extra = [f"- human speech (Debian `pocketsphinx-testdata`, {recordings} recordings): WER "
             f"{errors / max(words, 1):.1%} ({errors} of {words} words)"]
    processing = sum(c.processing_s for c in clips)
    audio = sum(c.audio_s for c in clips)
    extra.append(f"- real-time factor, 2 cores: {processing / audio:.3f} (processing / audio)")
    if args.one_core_clips:
        core = one_core(args.set, args.one_core_clips)
        extra.append(f"- one core (`taskset -c 0`, {core['clips']:.0f} clips): real-time "
                     f"factor {core['rtf']:.3f}, latency p50 / p95 {core['p50']:.0f} / "
                     f"{core['p95']:.0f} ms")
    pipeline_mb, session_s = pipeline_rss(folder)
    extra.append(f"- peak RSS of the pipeline with the language model loaded: {pipeline_mb:.0f} "
                 f"MB (`assistant run --input`, a {session_s:.0f} s session, its own process)")
    extra.append(f"- this benchmark's own peak RSS: "
                 f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    report = render(clips, args, load_s, extra)
    print(report)
    default = "hearing-final.md" if args.final else "hearing.md"
    path = args.report or HERE / "reports" / default
    path.write_text(report, encoding="utf-8")
    print(f"report written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
