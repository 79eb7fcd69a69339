"""The hub against the real wyoming-satellite program (PyPI ``wyoming-satellite``, in a
venv of its own made by ``.ci/setup test``), its microphone a WAV fed at real-time pace:
the hub listens for the wake word on its stream, acts in its zone, and reconnects when the
program restarts."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from assistant.cli.wyoming import serve_wyoming
from assistant.config import AssistantConfig
from assistant.service import FakeNotifier
from tests.satellites.conftest import free_port, until
from tests.speech import piper, save, session

_PYTHON = Path(os.environ.get(
    "ASSISTANT_WYOMING_SATELLITE",
    Path(sys.prefix) / "wyoming-satellite" / "bin" / "python"))

if not _PYTHON.exists() and not os.environ.get("CI"):
    pytest.skip(f"wyoming-satellite is not installed ({_PYTHON}); bash .ci/setup test",
                allow_module_level=True)


async def _start(port: int, wav: Path, *extra: str) -> asyncio.subprocess.Process:
    feed = Path(__file__).with_name("mic_feed.py")
    return await asyncio.create_subprocess_exec(
        str(_PYTHON), "-m", "wyoming_satellite", "--name", "rear seat", "--area", "car",
        "--uri", f"tcp://127.0.0.1:{port}", "--no-zeroconf",
        "--mic-command", f"{_PYTHON} {feed} {wav}", "--mic-command-rate", "16000",
        "--mic-command-width", "2", "--mic-command-channels", "1",
        "--snd-command", "sh -c 'cat > /dev/null'", *extra,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
    await process.wait()


@pytest.fixture
async def wav(tmp_path: Path) -> AsyncIterator[Callable[[str], Path]]:
    def make(text: str) -> Path:
        return save(session([1.5, piper("Hey Jarvis."), 0.4, piper(text), 3.0]),
                    tmp_path / f"{abs(hash(text))}.wav")

    yield make


async def test_the_real_satellite_is_heard_in_its_zone_and_comes_back(
        hub_with: Callable[..., Any], wav: Callable[[str], Path]) -> None:
    port = free_port()
    satellite = await _start(port, wav("I'm cold."))
    try:
        async with hub_with({"rear": {"uri": f"tcp://127.0.0.1:{port}", "area": "car",
                                      "zone": "rear"}}) as run:
            try:
                await until(lambda: bool(run.audit("result")))
            except TimeoutError:
                raise AssertionError(run.said()) from None
            [result] = run.audit("result")
            assert (result["tool"], result["arguments"]["zone"], result["satellite"]) == \
                ("change_temperature", "rear", "rear"), run.said()
            await _stop(satellite)
            satellite = await _start(port, wav("Open all the windows."))
            await until(lambda: len(run.audit("result")) == 2)
            assert run.audit("result")[1]["tool"] == "set_window", run.said()
    finally:
        await _stop(satellite)


async def test_the_real_satellite_with_its_wake_word_from_our_wake_service(
        hub_with: Callable[..., Any], wav: Callable[[str], Path], tmp_path: Path) -> None:
    """wyoming-satellite as most people run it: the wake word local (here from
    ``assistant wyoming``'s wake service), then ``run-pipeline`` from asr to the hub."""
    wake_port, port = free_port(), free_port()
    config = AssistantConfig.model_validate({
        "language_model": {"name": "none"}, "wyoming": {"services": ["wake"]},
        "service": {"audit_log": str(tmp_path / "wake-audit.jsonl")}})
    started = asyncio.Event()
    wake_service = asyncio.get_running_loop().create_task(serve_wyoming(
        config, uri=f"tcp://127.0.0.1:{wake_port}", notifier=FakeNotifier(),
        started=started), name="wake-service")
    satellite: asyncio.subprocess.Process | None = None
    try:
        await asyncio.wait_for(started.wait(), 120)
        satellite = await _start(port, wav("Close all the windows."), "--wake-uri",
                                 f"tcp://127.0.0.1:{wake_port}", "--wake-word-name",
                                 "hey_jarvis")
        async with hub_with({"rear": {"uri": f"tcp://127.0.0.1:{port}", "area": "car",
                                      "zone": "rear"}}) as run:
            try:
                await until(lambda: bool(run.audit("result")))
            except TimeoutError:
                raise AssertionError(run.said()) from None
            assert [(r["tool"], r["arguments"]) for r in run.audit("result")] == [
                ("set_window", {"window": "all", "position": 0})], run.said()
    finally:
        if satellite is not None:
            await _stop(satellite)
        wake_service.cancel()
        await asyncio.gather(wake_service, return_exceptions=True)
