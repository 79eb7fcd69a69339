"""Many satellites, one hub: 1, 4 and 8 simulated satellites streaming spoken sessions at
once on loopback to ``assistant serve`` (the hub, a process of its own, real engines).

    python benchmarks/satellites.py                 # 1, 4 and 8 satellites
    python benchmarks/satellites.py --counts 2 --commands 3

Each simulated satellite is a Wyoming server like wyoming-satellite with a local wake word:
when its script says so it sends ``run-pipeline`` (from asr), streams the utterance at a
microphone's pace in 64 ms chunks, then silence until the hub's ``transcript``. Every
satellite is in a room of its own (different people talking at once) and has a zone; its
commands lean on the zone ("I'm cold", "open my window", "stop this machine", "start this
machine" then "yes"), so an action in another satellite's zone is cross-talk.

Reports per count: each command's result, the latency from the end of its speech to its
action (the audit record's time), p50 / p95, the hub's CPU (share of one core) and peak
RSS, and how many satellites keep p95 within 1.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from wyoming.asr import Transcript  # noqa: E402
from wyoming.audio import AudioChunk  # noqa: E402
from wyoming.event import Event  # noqa: E402
from wyoming.info import Attribution, Describe, Info, Satellite  # noqa: E402
from wyoming.ping import Ping, Pong  # noqa: E402
from wyoming.pipeline import PipelineStage, RunPipeline  # noqa: E402
from wyoming.satellite import RunSatellite  # noqa: E402
from wyoming.server import AsyncEventHandler, AsyncTcpServer  # noqa: E402

from benchmarks.voice import pct  # noqa: E402
from tests.satellites.conftest import free_port  # noqa: E402
from tests.speech import piper  # noqa: E402

CHUNK = 1024
PAUSE = bytes(int(0.4 * 16000) * 2)
"""What a local-wake satellite streams first: the pause between the wake word and the
command (the hub starts listening on the first chunk)."""
TARGET_P95_S = 1.5
ZONES = ["driver", "passenger", "rear left", "rear right", "press 1", "press 2", "lathe",
         "welder"]
_MACHINE = {"press 1": "press_1", "press 2": "press_2", "lathe": "lathe", "welder": "welder"}
_SEAT = {"driver": "driver", "passenger": "passenger", "rear left": "rear_left",
         "rear right": "rear_right"}
_CABIN = {"driver": "driver", "passenger": "passenger", "rear left": "rear",
          "rear right": "rear"}


@dataclass
class Line:
    text: str
    tool: str | None
    arguments: dict[str, Any]
    audio: bytes = b""
    spoken_end: float = 0.0


def script(zone: str, commands: int, rng: random.Random) -> list[Line]:
    """``commands`` requests for ``zone``, each with what it must do there."""
    if zone in _MACHINE:
        machine = _MACHINE[zone]
        choices = [[Line("Stop this machine.", "stop_machine", {"machine": machine})],
                   [Line("Start this machine.", None, {}),
                    Line("Yes.", "start_machine", {"machine": machine})]]
    else:
        choices = [[Line("I'm cold.", "change_temperature", {"zone": _CABIN[zone]})],
                   [Line("Open my window.", "set_window", {"window": _SEAT[zone],
                                                           "position": 100})],
                   [Line("Close my window.", "set_window", {"window": _SEAT[zone],
                                                            "position": 0})]]
    lines: list[Line] = []
    for i in range(commands):
        lines += [Line(x.text, x.tool, dict(x.arguments)) for x in choices[i % len(choices)]]
    for line in lines:
        scale = rng.choice([0.9, 1.0, 1.1])
        line.audio = piper(line.text, length_scale=scale, vary=True).astype(np.int16).tobytes()
    return lines


@dataclass
class SimulatedSatellite:
    name: str
    zone: str
    lines: list[Line]
    rng: random.Random
    port: int = field(default_factory=free_port)
    heard: asyncio.Event = field(default_factory=asyncio.Event)
    hub: AsyncEventHandler | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    def handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                ) -> AsyncEventHandler:
        return _Handler(reader, writer, self)

    async def speak(self, start: asyncio.Event) -> None:
        await start.wait()
        for line in self.lines:
            await asyncio.sleep(self.rng.uniform(0.5, 2.5))
            hub = self.hub
            assert hub is not None
            self.heard.clear()
            await hub.write_event(RunPipeline(start_stage=PipelineStage.ASR,
                                              end_stage=PipelineStage.TTS).event())
            started, sent = time.monotonic(), 0
            # the pause after the wake word, the words, then silence until the transcript
            # (as wyoming-satellite does; at most 30 s)
            audio = PAUSE + line.audio + bytes(16000 * 2 * 30)
            spoken = len(PAUSE) + len(line.audio)
            while sent * 2 < len(audio) and not (self.heard.is_set() and sent * 2 >= spoken):
                piece = audio[sent * 2:(sent + CHUNK) * 2].ljust(CHUNK * 2, b"\0")
                await hub.write_event(AudioChunk(rate=16000, width=2, channels=1,
                                                 audio=piece).event())
                sent += CHUNK
                if sent * 2 >= spoken and not line.spoken_end:
                    line.spoken_end = time.time()
                await asyncio.sleep(max(0.0, started + sent / 16000 - time.monotonic()))
            await asyncio.sleep(1.5)  # the reply plays
        self.done.set()


class _Handler(AsyncEventHandler):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 satellite: SimulatedSatellite) -> None:
        super().__init__(reader, writer)
        self.satellite = satellite

    async def handle_event(self, event: Event) -> bool:
        satellite = self.satellite
        if Describe.is_type(event.type):
            await self.write_event(Info(satellite=Satellite(
                name=satellite.name, area=satellite.name, description="simulated",
                attribution=Attribution(name="benchmark", url=""), installed=True,
                version="1")).event())
        elif Ping.is_type(event.type):
            await self.write_event(Pong().event())
        elif RunSatellite.is_type(event.type):
            satellite.hub = self
            satellite.connected.set()
        elif Transcript.is_type(event.type):
            satellite.heard.set()
        return True


def _config(path: Path, satellites: list[SimulatedSatellite], audit: Path) -> None:
    lines = ["[service]", f'audit_log = "{audit}"', 'log_format = "text"', ""]
    for satellite in satellites:
        lines += [f"[satellites.{satellite.name}]",
                  f'uri = "tcp://127.0.0.1:{satellite.port}"',
                  f'area = "{satellite.name}"', f'zone = "{satellite.zone}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _settled(pid: int, idle: float = 0.15, limit_s: float = 120.0) -> None:
    """Until the process uses less than ``idle`` of a core over two seconds."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = _cpu_s(pid)
        await asyncio.sleep(2.0)
        if (_cpu_s(pid) - before) / 2.0 < idle:
            return


def _rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return 0.0


async def run_count(count: int, commands: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed + count)
    satellites = [SimulatedSatellite(f"sat{i + 1}", ZONES[i % len(ZONES)],
                                     script(ZONES[i % len(ZONES)], commands, rng),
                                     random.Random(seed * 31 + i))
                  for i in range(count)]
    with tempfile.TemporaryDirectory() as folder:
        config, audit = Path(folder) / "config.toml", Path(folder) / "audit.jsonl"
        _config(config, satellites, audit)
        servers = []
        for satellite in satellites:
            server = AsyncTcpServer("127.0.0.1", satellite.port)
            await server.start(satellite.handler)
            servers.append(server)
        verbose = os.environ.get("BENCH_HUB_LOG", "")  # 1: the hub's log, 2: with debug
        hub = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "assistant.cli.main", *(["-v"] if verbose == "2" else []),
            "--config", str(config), "serve",
            cwd=HERE.parent,
            stdout=None if verbose else asyncio.subprocess.DEVNULL,
            stderr=None if verbose else asyncio.subprocess.DEVNULL)
        try:
            await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in satellites)),
                                   180)
            await _settled(hub.pid)  # the hub's models loaded and warmed (its CPU idle)
            cpu0, wall0, peak = _cpu_s(hub.pid), time.monotonic(), 0.0
            start = asyncio.Event()
            talking = [asyncio.get_running_loop().create_task(s.speak(start),
                                                              name=f"bench-{s.name}")
                       for s in satellites]
            start.set()
            while not all(t.done() for t in talking):
                peak = max(peak, _rss_mb(hub.pid))
                await asyncio.sleep(0.5)
            await asyncio.sleep(3.0)
            for task in talking:
                task.result()
            cpu = (_cpu_s(hub.pid) - cpu0) / (time.monotonic() - wall0)
            peak = max(peak, _rss_mb(hub.pid, "VmHWM"))
        finally:
            hub.terminate()
            await asyncio.wait_for(hub.wait(), 30)
            for server in servers:
                await server.stop()
        records = [json.loads(x) for x in audit.read_text().splitlines()] \
            if audit.exists() else []
    if os.environ.get("BENCH_KEEP"):  # the audit and when each line ended, to look into
        keep = Path(os.environ["BENCH_KEEP"])
        keep.write_text(json.dumps({"records": records, "spoken_end": {  # noqa: ASYNC240
            s.name: [(x.text, x.spoken_end) for x in s.lines] for s in satellites}}))
    return _score(count, satellites, records, cpu, peak)


def _ts(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(record["ts"]).timestamp()


def _fits(record: dict[str, Any], line: Line) -> bool:
    return bool(record["tool"] == line.tool and all(
        record["arguments"].get(k) == v for k, v in line.arguments.items()))


def _score(count: int, satellites: list[SimulatedSatellite], records: list[dict[str, Any]],
           cpu: float, peak_mb: float) -> dict[str, Any]:
    rows, latencies, crosstalk, wrong = [], [], 0, 0
    for satellite in satellites:
        results = [r for r in records if r["kind"] == "result"
                   and r.get("satellite") == satellite.name]
        # A satellite says its next line only after the last one's transcript came back, so
        # a line's action comes after the line before it ended (a stop may act before its
        # own end) and before the next line's end; any other action was not asked for.
        used: set[int] = set()
        for i, line in enumerate(satellite.lines):
            if line.tool is None:
                continue
            until = satellite.lines[i + 1].spoken_end if i + 1 < len(satellite.lines) \
                and satellite.lines[i + 1].spoken_end else float("inf")
            since = satellite.lines[i - 1].spoken_end if i else 0.0
            found = next((j for j, r in enumerate(results) if j not in used and _fits(r, line)
                          and since <= _ts(r) < until), None)
            got = results[found] if found is not None else None
            latency = _ts(got) - line.spoken_end if got is not None else None
            if found is not None and latency is not None:
                used.add(found)
                latencies.append(latency)
            rows.append((satellite.name, satellite.zone, line.text, line.tool,
                         got["tool"] if got else None, got["arguments"] if got else None,
                         got is not None, latency))
        for j, extra in enumerate(results):
            if j not in used:
                wrong += 1
                rows.append((satellite.name, satellite.zone, "(nothing asked)", None,
                             extra["tool"], extra["arguments"], False, None))
        crosstalk += sum(1 for r in results if r.get("zone") != satellite.zone)
    return {"count": count, "rows": rows, "latencies": latencies, "cpu": cpu,
            "peak_mb": peak_mb, "crosstalk": crosstalk, "wrong": wrong,
            "commands": sum(1 for s in satellites for x in s.lines if x.tool)}


def report(results: list[dict[str, Any]], path: Path) -> str:
    out = ["# Satellites: one hub, many microphones", "",
           "`python benchmarks/satellites.py`. Simulated local-wake satellites on loopback, "
           "each in a room of its own, all talking at once; the hub is `assistant serve` "
           "(real engines). Latency: end of the command's speech to its action's audit "
           "record. CPU: the hub's, as a share of one core, while the satellites talk.", "",
           "| satellites | commands | acted right | wrong | cross-talk | latency p50 / p95 s "
           "| hub CPU | hub peak RSS MB |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lat = r["latencies"]
        out.append(f"| {r['count']} | {r['commands']} | {len(lat)} | {r['wrong']} | "
                   f"{r['crosstalk']} | {pct(lat, 0.5):.2f} / {pct(lat, 0.95):.2f} | "
                   f"{r['cpu'] * 100:.0f}% | {r['peak_mb']:.0f} |" if lat else
                   f"| {r['count']} | {r['commands']} | 0 | {r['wrong']} | "
                   f"{r['crosstalk']} | - | {r['cpu'] * 100:.0f}% | {r['peak_mb']:.0f} |")
    within = [r["count"] for r in results
              if r["latencies"] and pct(r["latencies"], 0.95) <= TARGET_P95_S
              and len(r["latencies"]) == r["commands"]]
    steps = [f"from {a['count']} to {b['count']}: "
             f"{(b['cpu'] - a['cpu']) * 100 / (b['count'] - a['count']):+.0f}% of a core and "
             f"{(b['peak_mb'] - a['peak_mb']) / (b['count'] - a['count']):+.0f} MB"
             for a, b in itertools.pairwise(results) if b["count"] > a["count"]]
    if steps:
        out += ["", "Each satellite added (hub CPU averaged over the whole session, pauses "
                "included): " + "; ".join(steps) + "."]
    out += ["", f"Served with every command right and p95 <= {TARGET_P95_S} s: "
            f"{max(within) if within else 0} satellites (of the counts tried).", "",
            "## Every command", "",
            "| satellites | satellite | zone | said | expected | got | arguments | ok | s |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for name, zone, text, tool, got, arguments, ok, latency in r["rows"]:
            seconds = f"{latency:.2f}" if latency is not None else "-"
            out.append(f"| {r['count']} | {name} | {zone} | {text} | {tool} | {got} | "
                       f"{json.dumps(arguments)} | {'yes' if ok else 'NO'} | {seconds} |")
    text = "\n".join(out) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--commands", type=int, default=4,
                        help="commands per satellite (a start's yes counts with it)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--report", type=Path, default=HERE / "reports" / "satellites.md")
    args = parser.parse_args()
    results = []
    for count in args.counts:
        result = await run_count(count, args.commands, args.seed)
        lat = result["latencies"]
        print(f"{count} satellites: {len(lat)}/{result['commands']} right, "
              f"{result['wrong']} wrong, cross-talk {result['crosstalk']}, "
              f"p50 {pct(lat, 0.5) if lat else float('nan'):.2f} s, "
              f"p95 {pct(lat, 0.95) if lat else float('nan'):.2f} s, "
              f"CPU {result['cpu'] * 100:.0f}%, RSS {result['peak_mb']:.0f} MB", flush=True)
        results.append(result)
    print(report(results, args.report))


if __name__ == "__main__":
    asyncio.run(main())
