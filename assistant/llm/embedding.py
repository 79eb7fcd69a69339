"""Hidden states of a GGUF model as features: the Embedder Protocol, its llama-cpp-python
adapter and a fake for unit tests.

A specialized head (:mod:`assistant.train.head`) reads the model's last hidden state after
a short frame around the utterance ("Request: ... Tool:"): the state from which the model
would name the tool, read without generating. One context, loaded once, used from one
worker thread; the library is imported only here.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from assistant.errors import LanguageModelError
from assistant.workers import thinking_worker

__all__ = ["FRAME", "Embedder", "FakeEmbedder", "LlamaEmbedder"]

_LOGGER = logging.getLogger(__name__)
FRAME = 'Request: "{}"\nTool:'
"""What the utterance is wrapped in; part of a trained head's recipe."""

Vector = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Features of an utterance from a model's hidden states."""

    name: str
    dimensions: int

    def embed(self, text: str) -> Vector:
        """Blocking: the features of ``text`` (call it from a worker thread)."""
        ...

    async def features(self, text: str) -> Vector:
        """:meth:`embed` in the model's worker thread."""
        ...

    async def aclose(self) -> None: ...


class FakeEmbedder:
    """Hashed word and character-trigram counts: cheap, deterministic features with some
    of the shape of real ones (similar words, similar vectors)."""

    def __init__(self, dimensions: int = 256, name: str = "fake") -> None:
        self.name = name
        self.dimensions = dimensions

    def embed(self, text: str) -> Vector:
        vector = np.zeros(self.dimensions, dtype=np.float32)
        words = text.split()
        grams = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
        padded = f" {text} "
        grams += [padded[i:i + 3] for i in range(len(padded) - 2)]
        for gram in grams:
            digest = hashlib.blake2b(gram.encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "little") % self.dimensions] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    async def features(self, text: str) -> Vector:
        return self.embed(text)

    async def aclose(self) -> None:
        return None


class LlamaEmbedder:
    """The last hidden state of a GGUF model after :data:`FRAME` around the text."""

    def __init__(self, llama: Any, name: str, worker: ThreadPoolExecutor) -> None:
        self.name = name
        self._llama = llama
        self._worker = worker
        self.dimensions = int(llama.n_embd())

    @classmethod
    def open(cls, path: Path, *, name: str, threads: int = 2) -> LlamaEmbedder:
        """Load ``path`` (already checksum-verified) for embeddings; blocking, for start-up."""
        try:
            from llama_cpp import LLAMA_POOLING_TYPE_LAST, Llama
        except ImportError as err:
            raise LanguageModelError(
                "slm-library-missing", "llama-cpp-python is not installed; install it as "
                "the README says (on x86_64 with CMAKE_ARGS=\"-DGGML_NATIVE=OFF\")") from err
        try:
            llama = Llama(model_path=str(path), embedding=True, n_ctx=256, n_batch=256,
                          n_ubatch=256, n_threads=threads, n_threads_batch=threads,
                          pooling_type=LLAMA_POOLING_TYPE_LAST, verbose=False)
        except (ValueError, RuntimeError) as err:
            raise LanguageModelError("slm-load-failed", f"{path} could not be loaded for "
                                     f"embeddings: {err}") from err
        return cls(llama, name, thinking_worker(f"embed-{name}"))

    def embed(self, text: str) -> Vector:
        try:
            values = self._llama.embed(FRAME.format(text), normalize=False)
        except (ValueError, RuntimeError) as err:
            raise LanguageModelError("slm-failed", f"embedding failed: {err}") from err
        return np.asarray(values, dtype=np.float32).reshape(-1)

    async def features(self, text: str) -> Vector:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self.embed, text)

    def close(self) -> None:
        """Blocking: finish the call under way and free the model."""
        self._worker.shutdown(wait=True)
        close = getattr(self._llama, "close", None)
        if close is not None:
            close()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)
