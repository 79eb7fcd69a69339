"""``assistant train --quick`` on a tiny skill, with the packaged model through
llama-cpp-python: it writes a GGUF that loads and decides its sentences, is installed only
when it is not worse, is refused once the skills change, and refused when damaged."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from assistant.cli.train import run_train
from assistant.config import AssistantConfig
from assistant.llm.setup import open_last_tier
from assistant.train.artifact import load_entries, read_head, trained_folder
from assistant.train.install import open_trained, trained_status
from assistant.wiring import build_understanding
from tests.conftest import AWAIT_LIMIT

TRAIN_LIMIT = 600.0
"""--quick on one small skill takes under a minute here; a loaded CI machine, longer."""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


async def test_train_quick_makes_a_model_that_is_used_only_for_its_skills(
        cache: Path, tmp_path: Path) -> None:
    config = AssistantConfig().overridden({"skills": {"enabled": ["core"]},
                                           "language_model": {"name": "smollm2-135m"}})
    stdout, log = io.StringIO(), io.StringIO()
    status = await asyncio.wait_for(run_train(
        config, out=tmp_path / "out", quick=True, eval_paths=[], install=True,
        stdout=stdout, log=log), TRAIN_LIMIT)
    assert status == 0, stdout.getvalue() + log.getvalue()
    assert "installed" in stdout.getvalue()
    assert "left" in log.getvalue()  # progress with an estimate of the time left
    written = tmp_path / "out" / "smollm2-135m.gguf"
    assert read_head(written).base_model == "smollm2-135m"
    assert (tmp_path / "out" / "data" / "train.jsonl").is_file()
    entry = load_entries()["smollm2-135m"]
    assert entry.evaluation["trained"]["tier_ood_calls"] == 0
    assert (trained_folder() / entry.file).is_file()

    # Used for the skills it was trained for: it decides their sentences.
    settings = config.language_model
    _, understanding = build_understanding(["core"])
    tier, problem = await asyncio.to_thread(open_trained, settings, understanding)
    assert tier is not None, problem
    try:
        understanding.specialized = tier
        for text, tool in (("set a timer for 5 minutes", "set_timer"),
                           ("what time is it", "get_time"),
                           ("cancel the timer", "cancel_timer")):
            guess = await asyncio.wait_for(tier.guess(understanding.analyze(text).normalized,
                                                      understanding.classifier),
                                           AWAIT_LIMIT)
            assert guess is not None and guess.tool == tool, (text, guess)
        assert "trained model" in trained_status(settings, understanding).detail
    finally:
        await tier.aclose()

    # Other skills: refused, a retrain is due, and the packaged model is used meanwhile.
    _, changed = build_understanding(["core", "vehicle"])
    tier, problem = await asyncio.to_thread(open_trained, settings, changed)
    assert tier is None and "retrain is due" in problem
    assert trained_status(settings, changed).due
    last = await asyncio.to_thread(open_last_tier, settings, changed)
    try:
        assert last.model is not None and last.specialized is None
        assert "retrain is due" in last.notice
    finally:
        await last.aclose()

    # A damaged file is refused.
    installed = trained_folder() / entry.file
    data = bytearray(installed.read_bytes())
    data[len(data) // 2] ^= 0x55
    installed.write_bytes(bytes(data))
    tier, problem = await asyncio.to_thread(open_trained, settings, understanding)
    assert tier is None and "does not match its sha256" in problem
