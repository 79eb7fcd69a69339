"""One set of utterances for every safety session: sampled once from the skills."""

from __future__ import annotations

import random
import tempfile
from functools import cache
from pathlib import Path

from assistant.nlu.classifier import IntentClassifier
from assistant.nlu.understand import Understanding
from assistant.testing import Pools, sample_pools
from assistant.wiring import build_assistant, build_understanding


@cache
def shared() -> tuple[IntentClassifier, Pools, Understanding]:
    """The trained classifier, the rig's utterances and an understanding to parse with
    (module state, because hypothesis state machines cannot take fixtures)."""
    understanding = build_understanding()[1]
    with tempfile.TemporaryDirectory() as folder:
        assistant = build_assistant(lambda _event: None, audit_path=Path(folder) / "a.jsonl",
                                    classifier=understanding.classifier,
                                    skill_configs={"vehicle": {}, "factory": {}})
        pools = sample_pools(assistant, random.Random(20261201))
    return understanding.classifier, pools, understanding
