"""The trained tier on fake features: the data comes from the skills, the head decides
what the classifier leaves undecided only with the words' support, and a trained model on
disk is used only while it is intact and fits the installed skills."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ModelError
from assistant.llm.embedding import FakeEmbedder
from assistant.manifest import sha256_of
from assistant.nlu.classifier import NO_TOOL
from assistant.nlu.normalize import normalize
from assistant.nlu.specialized import SpecializedSettings, SpecializedTier, head_features
from assistant.nlu.understand import Route, Understanding
from assistant.train.artifact import (
    TrainedEntry,
    TrainedHead,
    installed_entry,
    read_head,
    save_entry,
    skills_fingerprint,
    write_head,
)
from assistant.train.data import build_training_data
from assistant.train.head import IntentHead
from assistant.wiring import build_understanding
from tests.conftest import AWAIT_LIMIT


@pytest.fixture(scope="module")
def core() -> Understanding:
    return build_understanding(["core", "vehicle"])[1]


@pytest.fixture(scope="module")
def head(core: Understanding) -> IntentHead:
    data = build_training_data(core.template_sentences, core.catalog, samples_per_sentence=4)
    embedder = FakeEmbedder()
    return IntentHead.train(np.stack([head_features(embedder.embed(e.text), core.classifier,
                                                    e.text) for e in data.train]),
                            [e.label for e in data.train])


def test_the_data_covers_every_tool_and_no_tool_and_keeps_dev_apart(core: Understanding
                                                                    ) -> None:
    data = build_training_data(core.template_sentences, core.catalog, samples_per_sentence=4)
    again = build_training_data(core.template_sentences, core.catalog, samples_per_sentence=4)
    assert data.digest() == again.digest()
    tools = {e.tool for e in data.train}
    assert tools == {*core.catalog.tools, None}
    assert not {e.text for e in data.train} & {e.text for e in data.dev}
    sources = {e.source for e in data.train if e.label == NO_TOOL}
    assert {"near miss", "word salad", "out_of_domain.txt"} <= sources
    # a near miss mentions a thing of the skills and matches no template
    near = [e.text for e in data.train if e.source == "near miss"]
    assert any("window" in text for text in near)
    assert all(core.analyze(text).match is None for text in near)


def test_the_data_is_written_to_be_read(core: Understanding, tmp_path: Path) -> None:
    data = build_training_data(core.template_sentences, core.catalog, samples_per_sentence=2)
    data.write(tmp_path)
    lines = (tmp_path / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(data.train)
    first = json.loads(lines[0])
    assert set(first) == {"text", "label", "tool", "source"}


async def test_the_head_decides_what_the_classifier_leaves_and_only_with_the_words(
        core: Understanding, head: IntentHead) -> None:
    understanding = Understanding(core.catalog, core.template_sentences,
                                  classifier=core.classifier)
    understanding.specialized = SpecializedTier(FakeEmbedder(), head, "fake",
                                                SpecializedSettings(threshold=0.0))
    # Its sentences decided by the templates stay the templates'.
    decision = await asyncio.wait_for(understanding.understand("lock the doors"), AWAIT_LIMIT)
    assert (decision.tool, decision.route) == ("lock_doors", Route.GRAMMAR)
    # A stop is never the head's.
    assert await understanding.specialized.guess(normalize("stop everything now"),
                                                 understanding.classifier) is None
    # Whatever it guesses for a sentence with no words of a tool is dropped by the evidence.
    for text in ("my cat likes the radio", "i painted the garage blue"):
        decided = await asyncio.wait_for(understanding.understand(text), AWAIT_LIMIT)
        assert decided.tool is None, text


def test_a_head_survives_its_file_and_is_refused_when_damaged_or_stale(
        core: Understanding, head: IntentHead, tmp_path: Path) -> None:
    fingerprint = skills_fingerprint(core.catalog, core.template_sentences)
    trained = TrainedHead(head, "fake", "0" * 64, fingerprint, "1" * 64, "frame {}")
    path = tmp_path / "fake.gguf"
    write_head(trained, path)
    again = read_head(path)
    assert again.head.labels == head.labels and again.fingerprint == fingerprint
    vector = head_features(FakeEmbedder().embed("open the driver window"), core.classifier,
                           "open the driver window")
    read, made = again.head.guess(vector), head.guess(vector)
    assert read.label == made.label
    assert read.probability == pytest.approx(made.probability, rel=1e-6)
    save_entry(TrainedEntry(name="fake", file=path.name, sha256=sha256_of(path),
                            method="head", base_model="fake", base_sha256="0" * 64,
                            skills_fingerprint=fingerprint, data_sha256="1" * 64,
                            created="now"), tmp_path)
    used, problem = installed_entry("fake", fingerprint, "0" * 64, tmp_path)
    assert used is not None and problem == ""
    # other skills: a retrain is due
    other = skills_fingerprint(core.catalog, core.template_sentences[1:])
    used, problem = installed_entry("fake", other, "0" * 64, tmp_path)
    assert used is None and "retrain is due" in problem
    # another base model file
    used, problem = installed_entry("fake", fingerprint, "2" * 64, tmp_path)
    assert used is None and "another file" in problem
    # a damaged file: refused by its checksum
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    used, problem = installed_entry("fake", fingerprint, "0" * 64, tmp_path)
    assert used is None and "does not match its sha256" in problem
    # not a head at all
    path.write_bytes(b"GGUF not really")
    with pytest.raises(ModelError, match="not a trained head"):
        read_head(path)


def test_the_fingerprint_follows_the_configured_names() -> None:
    plain = build_understanding(["factory"])[1]
    renamed = build_understanding(["factory"], {"factory": {
        "machines": {"press_1": {"names": ["press 1", "big press"]}}}})[1]
    assert skills_fingerprint(plain.catalog, plain.template_sentences) != \
        skills_fingerprint(renamed.catalog, renamed.template_sentences)


def test_a_worse_model_or_one_that_calls_out_of_domain_is_not_installed() -> None:
    from assistant.train.evaluate import Score
    from assistant.train.recipe import refusal_of

    before = Score(correct=90, total=100)
    assert refusal_of(before, Score(correct=95, total=100), "base") is None
    assert refusal_of(before, Score(correct=90, total=100), "base") is None
    worse = refusal_of(before, Score(correct=89, total=100), "base")
    assert worse is not None and "below 90.0%" in worse
    calls = refusal_of(before, Score(correct=99, total=100, tier_ood_calls=1), "base")
    assert calls is not None and "out-of-domain" in calls


def test_progress_says_how_long_is_left() -> None:
    import io

    from assistant.train.recipe import Progress

    now = [0.0]
    out = io.StringIO()
    progress = Progress("reading", 4, out, clock=lambda: now[0])
    for done in range(1, 5):
        now[0] += 2.0
        progress.step(done)
    assert "reading 1/4, 2 s so far, about 6 s left" in out.getvalue()
    assert out.getvalue().endswith("reading 4/4, 8 s so far, about 0 s left\n")
