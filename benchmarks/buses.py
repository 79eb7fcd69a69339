"""Bus benchmark: command-to-acknowledge time over Modbus TCP and CAN.

    python benchmarks/buses.py                 # 500 commands per bus, report in reports/
    python benchmarks/buses.py --count 100

Two measurements per bus, each over the real protocol library:
- bus round trip: the skill's back end sends one command and awaits the controller's
  acknowledgement (Modbus: the write's response; CAN: the BODY_ACK frame with its sequence);
- command to acknowledgement: a typed command through understanding, the dispatcher (with
  its interlock reads over the bus), the write, the acknowledgement, to the action event.
The PLC simulator runs in a separate process (TCP over loopback between two processes);
python-can's virtual bus lives in one process, so the body controller shares this one.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from assistant.events import ActionEvent, Event  # noqa: E402
from assistant.wiring import build_assistant  # noqa: E402
from skills.factory.modbus import ModbusPlant  # noqa: E402
from skills.factory.plant import load_plant  # noqa: E402
from skills.vehicle.backend import SimulatedVehicle  # noqa: E402
from skills.vehicle.can_bus import BodyController, CanVehicle, open_bus  # noqa: E402

_PLC_PROCESS = """
import asyncio, sys
from skills.factory.modbus import PlcSimulator
from skills.factory.plant import SimulatedPlant, load_plant

async def main() -> None:
    plc = PlcSimulator(SimulatedPlant(load_plant()))
    await plc.start()
    print(plc.port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await plc.stop()

asyncio.run(main())
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": percentile(values, 0.5), "p95": percentile(values, 0.95),
            "max": max(values), "mean": statistics.fmean(values)}


async def timed(count: int, command: Callable[[int], Awaitable[Any]]) -> list[float]:
    for index in range(min(20, count)):  # warm up: connections, first frames
        await command(index)
    times = []
    for index in range(count):
        started = time.perf_counter()
        await command(index)
        times.append((time.perf_counter() - started) * 1000.0)
    return times


async def through_the_assistant(configs: dict[str, Any], sentences: list[str],
                                count: int) -> list[float]:
    """Typed command to the action event, through understanding and the dispatcher."""
    events: list[Event] = []
    assistant = build_assistant(events.append, audit_path=Path("/tmp/bench-buses-audit.jsonl"),
                                skill_configs=configs)
    try:
        async def command(index: int) -> None:
            before = len(events)
            await assistant.dialogue.hear(sentences[index % len(sentences)])
            actions = [e for e in events[before:] if isinstance(e, ActionEvent)]
            if not actions or not actions[0].ok:
                raise RuntimeError(f"command failed: {events[before:]}")

        return await timed(count, command)
    finally:
        await assistant.aclose()


async def modbus(count: int) -> dict[str, dict[str, float]]:
    plc = subprocess.Popen([sys.executable, "-c", _PLC_PROCESS], stdin=subprocess.PIPE,  # noqa: ASYNC220 (started once, before timing)
                           stdout=subprocess.PIPE, text=True, cwd=HERE.parent)
    try:
        assert plc.stdout is not None
        port = int(plc.stdout.readline())
        client = ModbusPlant(load_plant(), "127.0.0.1", port, timeout_s=1.0)
        try:
            round_trip = await timed(count, lambda i: client.set_conveyor_speed(
                "conveyor_2", i % 101))
        finally:
            await client.close()
        configs = {"factory": {"modbus": {"host": "127.0.0.1", "port": port,
                                          "timeout_s": 1.0}}}
        sentences = [f"set conveyor two to {p} percent" for p in (10, 25, 40, 55, 70, 85)]
        assistant = await through_the_assistant(configs, sentences, count)
    finally:
        assert plc.stdin is not None
        plc.stdin.close()
        plc.wait(timeout=10)
    return {"round trip (write register, response)": summary(round_trip),
            "command to ack (set conveyor speed)": summary(assistant)}


async def can_bus(count: int) -> dict[str, dict[str, float]]:
    channel = "bench-vehicle"
    controller = BodyController(SimulatedVehicle(), open_bus("virtual", channel))
    await controller.start()
    car = CanVehicle(open_bus("virtual", channel), timeout_s=0.5)
    try:
        round_trip = await timed(count, lambda i: car.set_fan_speed(i % 8))
        configs = {"vehicle": {"can": {"interface": "virtual", "channel": channel,
                                       "timeout_s": 0.5}}}
        sentences = [f"set the fan speed to {level}" for level in range(1, 8)]
        assistant = await through_the_assistant(configs, sentences, count)
    finally:
        await car.aclose()
        await controller.stop()
        controller.bus.shutdown()
    return {"round trip (BODY_CMD, BODY_ACK)": summary(round_trip),
            "command to ack (set fan speed)": summary(assistant)}


def report(results: dict[str, dict[str, dict[str, float]]], count: int) -> str:
    lines = ["# Bus benchmark: command to acknowledgement", "",
             f"`python benchmarks/buses.py --count {count}` on {platform.machine()}, "
             f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}.", "",
             "| bus | measured | n | p50 ms | p95 ms | max ms | mean ms |",
             "|---|---|---|---|---|---|---|"]
    for bus, rows in results.items():
        for name, s in rows.items():
            lines.append(f"| {bus} | {name} | {s['n']:.0f} | {s['p50']:.2f} | {s['p95']:.2f} | "
                         f"{s['max']:.2f} | {s['mean']:.2f} |")
    lines += ["", "Modbus: the PLC simulator (pymodbus server) in another process on "
              "127.0.0.1. CAN: python-can's virtual bus, the simulated body controller in the "
              "same process. 'Command to ack' includes understanding the typed sentence, "
              "the dispatcher's interlock reads over the same bus, the write and its "
              "acknowledgement, and the audit log writes.", ""]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--report", type=Path, default=HERE / "reports" / "buses.md")
    args = parser.parse_args()
    results = {"Modbus TCP": await modbus(args.count), "CAN": await can_bus(args.count)}
    text = report(results, args.count)
    print(text)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
