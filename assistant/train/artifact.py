"""A trained model on disk: a GGUF file and its entry in the trained-model manifest.

The GGUF (written and read with the ``gguf`` package) holds the head's tensors and what it
was made from: the base model and its sha256, the skills' fingerprint, the training data's
sha256, the frame and the labels. ``trained.json`` in the model cache lists every installed
trained model with the file's sha256 and its evaluation. A trained model is used only when
its file matches its sha256 and its fingerprint matches the installed skills; anything else
is refused with the reason, and the packaged model is used meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.dispatch.catalog import Catalog
from assistant.errors import ModelError
from assistant.manifest import model_cache, sha256_of
from assistant.nlu.templates import TemplateSentence
from assistant.train.head import IntentHead

__all__ = ["ARCHITECTURE", "TrainedEntry", "TrainedHead", "installed_entry", "read_head",
           "skills_fingerprint", "trained_folder", "write_head"]

ARCHITECTURE = "assistant-intent-head"
_MANIFEST = "trained.json"


def trained_folder() -> Path:
    return model_cache() / "trained"


def skills_fingerprint(catalog: Catalog, sentences: Iterable[TemplateSentence]) -> str:
    """sha256 of what a trained model learned about the skills: every tool, its arguments
    and their values (configured names and aliases included), its safety, every sentence."""
    digest = hashlib.sha256()
    for name in sorted(catalog.tools):
        tool = catalog.tools[name]
        digest.update(f"tool\t{name}\t{tool.safety}\n".encode())
        for spec in sorted(catalog.specs[name].values(), key=lambda s: s.name):
            values = json.dumps({k: repr(v) for k, v in sorted(spec.values.items())})
            digest.update(f"arg\t{spec.name}\t{spec.kind}\t{spec.required}\t{spec.minimum}\t"
                          f"{spec.maximum}\t{values}\n".encode())
    for sentence in sorted(sentences, key=lambda s: (s.tool, s.text)):
        meaning = json.dumps({"fixed": {k: repr(v) for k, v in sorted(sentence.fixed.items())},
                              "negate": sorted(sentence.negate)})
        digest.update(f"sentence\t{sentence.tool}\t{sentence.text}\t{meaning}\t"
                      f"{sentence.example}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class TrainedHead:
    """A head and what it was trained on."""

    head: IntentHead
    base_model: str
    base_sha256: str
    fingerprint: str
    data_sha256: str
    frame: str


@dataclass(frozen=True)
class TrainedEntry:
    """One line of the trained-model manifest."""

    name: str
    file: str
    sha256: str
    method: str
    base_model: str
    base_sha256: str
    skills_fingerprint: str
    data_sha256: str
    created: str
    evaluation: Mapping[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return trained_folder() / self.file


def write_head(trained: TrainedHead, path: Path) -> None:
    """The head as a GGUF file (written whole or not at all)."""
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".gguf")
    os.close(handle)
    writer = gguf.GGUFWriter(partial, ARCHITECTURE)
    writer.add_string("assistant.base_model", trained.base_model)
    writer.add_string("assistant.base_sha256", trained.base_sha256)
    writer.add_string("assistant.skills_fingerprint", trained.fingerprint)
    writer.add_string("assistant.data_sha256", trained.data_sha256)
    writer.add_string("assistant.frame", trained.frame)
    writer.add_array("assistant.labels", list(trained.head.labels))
    head = trained.head
    for name, tensor in (("head.mean", head.mean), ("head.scale", head.scale),
                         ("head.coef", head.coef), ("head.intercept", head.intercept)):
        writer.add_tensor(name, np.ascontiguousarray(tensor, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(partial, path)


def read_head(path: Path) -> TrainedHead:
    """A head from its GGUF file; a file that is not one is a :class:`ModelError`."""
    import gguf

    try:
        reader = gguf.GGUFReader(path)
        fields = {name: _value(reader, name) for name in (
            "general.architecture", "assistant.base_model", "assistant.base_sha256",
            "assistant.skills_fingerprint", "assistant.data_sha256", "assistant.frame")}
        labels = _strings(reader, "assistant.labels")
        tensors = {t.name: np.array(t.data, dtype=np.float32) for t in reader.tensors}
        if fields["general.architecture"] != ARCHITECTURE:
            raise ValueError(f"architecture {fields['general.architecture']!r}")
        coef = tensors["head.coef"].reshape(len(labels), -1)
        head = IntentHead(tuple(labels), tensors["head.mean"].reshape(-1),
                          tensors["head.scale"].reshape(-1), coef,
                          tensors["head.intercept"].reshape(-1))
        if head.mean.shape[0] != coef.shape[1] or head.intercept.shape[0] != len(labels):
            raise ValueError("tensor shapes do not agree")
    except (OSError, ValueError, KeyError, IndexError) as err:
        raise ModelError("trained-model-unreadable", f"{path} is not a trained head ({err}); "
                         "run 'assistant train' again") from err
    return TrainedHead(head, fields["assistant.base_model"], fields["assistant.base_sha256"],
                       fields["assistant.skills_fingerprint"], fields["assistant.data_sha256"],
                       fields["assistant.frame"])


def _value(reader: Any, name: str) -> str:
    found = reader.get_field(name)
    if found is None:
        raise KeyError(name)
    return str(found.contents())


def _strings(reader: Any, name: str) -> list[str]:
    found = reader.get_field(name)
    if found is None:
        raise KeyError(name)
    return [str(item) for item in found.contents()]


def load_entries(folder: Path | None = None) -> dict[str, TrainedEntry]:
    path = (folder or trained_folder()) / _MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {item["name"]: TrainedEntry(**item) for item in raw["models"]}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelError("trained-manifest-unreadable", f"{path} cannot be read ({err}); "
                         "delete it and run 'assistant train' again") from err


def save_entry(entry: TrainedEntry, folder: Path | None = None) -> None:
    folder = folder or trained_folder()
    entries = load_entries(folder)
    entries[entry.name] = entry
    folder.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=folder, suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"models": [asdict(e) for e in entries.values()]}, out, indent=2)
    os.replace(partial, folder / _MANIFEST)


def installed_entry(name: str, fingerprint: str, base_sha256: str | None = None,
                    folder: Path | None = None) -> tuple[TrainedHead | None, str]:
    """The installed trained model ``name`` if it may be used, else None and why not
    (empty when none is installed)."""
    entry = load_entries(folder).get(name)
    if entry is None:
        return None, ""
    path = (folder or trained_folder()) / entry.file
    if not path.is_file():
        return None, f"trained model {name}: {path} is missing; run 'assistant train'"
    if sha256_of(path) != entry.sha256:
        return None, (f"trained model {name}: {path} does not match its sha256 "
                      f"{entry.sha256[:12]}…; it is refused; run 'assistant train' again")
    trained = read_head(path)
    if trained.fingerprint != fingerprint or entry.skills_fingerprint != fingerprint:
        return None, (f"trained model {name} was trained for other skills (they changed "
                      "since); a retrain is due: run 'assistant train'. The packaged model "
                      "is used meanwhile")
    if base_sha256 is not None and trained.base_sha256 != base_sha256:
        return None, (f"trained model {name} was trained on another file of "
                      f"{trained.base_model}; run 'assistant train' again")
    return trained, ""

