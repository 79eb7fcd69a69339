"""The language-model adapter for llama-cpp-python (GGUF models).

One ``Llama`` context, loaded once, used from one worker thread. The fixed prompt prefix
is evaluated at load and stays in the KV cache: each call keeps the longest common prefix
of what was evaluated before and evaluates only the rest, in small chunks, checking its
deadline and a stop flag between them, so a call past its budget or cancelled stops
within one chunk.

``choose`` scores a closed set of continuations: the options' tokens form a trie, and the
model's next-token distribution is read wherever the options part ways; an option's score
is the sum of the log-probabilities of its tokens up to the token that tells it apart.
``complete`` decodes under the GBNF grammar llama-cpp-python derives from a JSON schema.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from assistant.errors import LanguageModelError
from assistant.llm.base import ModelTimeout
from assistant.workers import thinking_worker

__all__ = ["LlamaCppModel"]

_LOGGER = logging.getLogger(__name__)
_CHUNK = 32
"""Tokens evaluated between deadline checks (a few tens of milliseconds)."""
_ROOM = 512
"""Tokens kept free after the prefix: demonstrations, the request and the answer."""
_Q8_0 = 8
"""``GGML_TYPE_Q8_0``: the key-value cache's type where the model allows it."""
_MAX_CONTEXT = 8192
_ROOT_RULE = re.compile(r"^root ::=", re.MULTILINE)
T = TypeVar("T")


class _Stopped(LanguageModelError):
    """The deadline passed or the caller went away."""

    def __init__(self) -> None:
        super().__init__("slm-timeout", "the language model was stopped at its deadline")


class _Incomplete(LanguageModelError):
    def __init__(self, max_tokens: int) -> None:
        super().__init__("slm-incomplete", f"the answer did not fit in {max_tokens} tokens; "
                         "it was treated as no answer")


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    options: list[int] = field(default_factory=list)


def _common_prefix(left: Sequence[int], right: Sequence[int]) -> int:
    length = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        length += 1
    return length


def _log_softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    shifted = logits.astype(np.float64) - float(logits.max())
    result: npt.NDArray[np.float64] = shifted - np.log(np.exp(shifted).sum())
    return result


class LlamaCppModel:
    """A GGUF model behind a fixed prefix; create it with :meth:`open`.

    ``clock``: the seconds the deadlines are on (the monotonic clock, as the model tier's;
    tests give one they advance). The worker thread reads it between chunks.
    """

    def __init__(self, llama: Any, prefix_tokens: list[int], name: str,
                 worker: ThreadPoolExecutor,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self._llama = llama
        self._prefix = prefix_tokens
        self._worker = worker
        self._grammars: dict[str, Any] = {}

    @classmethod
    def open(cls, path: Path, prefix: str, *, name: str, threads: int = 2,
             context: int = 1024, warmup_s: float = 60.0,
             clock: Callable[[], float] = time.monotonic) -> LlamaCppModel:
        """Load ``path`` (already checksum-verified), evaluate ``prefix`` into the cache and
        warm up; blocking, for start-up. ``context`` grows if the prefix (the tool list)
        leaves less than :data:`_ROOM` tokens for the per-call prompt. A warm-up that takes
        over ``warmup_s`` (a loaded or slow machine) is a :class:`LanguageModelError`."""
        try:
            from llama_cpp import Llama
        except ImportError as err:
            raise LanguageModelError(
                "slm-library-missing", "llama-cpp-python is not installed; install it as "
                "the README says (on x86_64 with CMAKE_ARGS=\"-DGGML_NATIVE=OFF\")") from err
        options: dict[str, Any] = {"model_path": str(path), "n_ctx": context,
                                   "n_threads": threads, "n_threads_batch": threads,
                                   "n_batch": _CHUNK * 8, "verbose": False}
        try:
            # the cache in 8 bits (flash attention is what allows it): the prefix fills
            # most of it, and 16 bits cost ~20 MB more for the same decisions
            llama = Llama(**options, flash_attn=True, type_k=_Q8_0, type_v=_Q8_0)
        except (ValueError, RuntimeError) as first:
            # some architectures have no flash attention, hence no 8-bit value cache
            _LOGGER.info("%s: no 8-bit cache (%s); loading it with a 16-bit one", path, first)
            try:
                llama = Llama(**options)
            except (ValueError, RuntimeError) as err:
                raise LanguageModelError("slm-load-failed", f"cannot load {path}: {err}; "
                                         "is it a GGUF model?") from err
        tokens = llama.tokenize(prefix.encode("utf-8"), add_bos=True)
        if len(tokens) + _ROOM > context:
            llama.close()
            if len(tokens) + _ROOM > _MAX_CONTEXT:
                raise LanguageModelError(
                    "slm-prefix-too-long", f"the prompt prefix (the tool list) has "
                    f"{len(tokens)} tokens; at most {_MAX_CONTEXT - _ROOM} fit; "
                    "enable fewer skills")
            return cls.open(path, prefix, name=name, threads=threads,
                            context=-(-(len(tokens) + _ROOM) // 256) * 256, warmup_s=warmup_s,
                            clock=clock)
        # thinking yields to listening; its compute threads start from this worker
        worker = thinking_worker(f"slm-{name}")
        model = cls(llama, tokens, name, worker, clock)
        # Warm up (on the worker): the first calls allocate compute buffers.
        try:
            worker.submit(model._choose, '"hello" ->', [" none", " hello"], threading.Event(),
                          clock() + warmup_s).result()
        except Exception as err:
            worker.shutdown(wait=False)
            llama.close()
            if isinstance(err, _Stopped):
                raise LanguageModelError(
                    "slm-warmup-timeout", f"warming up {path.name} took over {warmup_s:.0f} s; "
                    "this machine is too busy or too slow for it") from err
            raise LanguageModelError("slm-load-failed", f"cannot warm up {path.name}: "
                                     f"{err!r}") from err
        return model

    async def choose(self, prompt: str, options: Sequence[str], *,
                     deadline: float) -> list[float]:
        return await self._run(lambda stop: self._choose(prompt, options, stop, deadline),
                               deadline)

    async def complete(self, prompt: str, *, schema: Mapping[str, Any], max_tokens: int,
                       deadline: float) -> str:
        return await self._run(
            lambda stop: self._complete(prompt, schema, max_tokens, stop, deadline), deadline)

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        llama, self._llama = self._llama, None
        if llama is not None:
            llama.close()

    async def _run(self, job: Callable[[threading.Event], T], deadline: float) -> T:
        stop = threading.Event()
        budget = deadline - self._clock()
        future = asyncio.get_running_loop().run_in_executor(self._worker, job, stop)
        # Past its deadline the job ends on its own, with _Stopped nobody awaits: read it, so
        # asyncio does not report "Future exception was never retrieved".
        future.add_done_callback(_retrieve)
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(budget, 0.0))
        except (TimeoutError, _Stopped) as err:
            stop.set()
            raise ModelTimeout(max(budget, 0.0) * 1000) from err
        except asyncio.CancelledError:
            stop.set()
            raise
        except LanguageModelError:
            raise
        except Exception as err:
            # Whatever the library raises, the request becomes "no tool"; the loop goes on.
            raise LanguageModelError("slm-failed", f"the language model failed: {err!r}") \
                from err

    # Blocking work, on the worker thread only.

    def _tokens(self, text: str) -> list[int]:
        return self._prefix + list(self._llama.tokenize(text.encode("utf-8"), add_bos=False))

    def _evaluate(self, tokens: Sequence[int], stop: threading.Event,
                  deadline: float) -> npt.NDArray[np.float32]:
        """Make the KV cache hold ``tokens``; the next-token logits after them."""
        llama = self._llama
        evaluated = llama.input_ids[: llama.n_tokens].tolist()
        # The last token is always evaluated again: its logits are the answer.
        keep = min(_common_prefix(evaluated, tokens), len(tokens) - 1)
        llama.n_tokens = keep
        for start in range(keep, len(tokens), _CHUNK):
            if stop.is_set() or self._clock() > deadline:
                raise _Stopped
            llama.eval(tokens[start:start + _CHUNK])
        from llama_cpp import llama_get_logits

        logits = np.ctypeslib.as_array(llama_get_logits(llama.ctx), shape=(llama.n_vocab(),))
        return logits.copy()

    def _choose(self, prompt: str, options: Sequence[str], stop: threading.Event,
                deadline: float) -> list[float]:
        base = self._tokens(prompt)
        full = [self._tokens(prompt + option) for option in options]
        shared = min(_common_prefix(base, tokens) for tokens in full)
        root = _Node()
        for index, tokens in enumerate(full):
            node = root
            for token in tokens[shared:]:
                node = node.children.setdefault(token, _Node())
                node.options.append(index)
        scores = [0.0] * len(options)
        pending: list[tuple[list[int], _Node]] = [(list(full[0][:shared]), root)]
        while pending:
            path, node = pending.pop()
            if len(node.children) > 1 or node is root:
                logprobs = _log_softmax(self._evaluate(path, stop, deadline))
                for token, child in node.children.items():
                    for index in child.options:
                        scores[index] += float(logprobs[token])
            for token, child in node.children.items():
                if len(child.options) > 1:
                    pending.append(([*path, token], child))
        return scores

    def _complete(self, prompt: str, schema: Mapping[str, Any], max_tokens: int,
                  stop: threading.Event, deadline: float) -> str:
        tokens = self._tokens(prompt)
        self._evaluate(tokens, stop, deadline)

        from llama_cpp import StoppingCriteriaList

        def past_deadline(_ids: Any, _logits: Any) -> bool:
            return stop.is_set() or self._clock() > deadline

        result = self._llama.create_completion(
            tokens, max_tokens=max_tokens, temperature=0.0, grammar=self._grammar(schema),
            stopping_criteria=StoppingCriteriaList([past_deadline]))
        if stop.is_set() or self._clock() > deadline:
            raise _Stopped
        choice = result["choices"][0]
        if choice["finish_reason"] == "length":
            raise _Incomplete(max_tokens)
        text: str = choice["text"]
        return text

    def _grammar(self, schema: Mapping[str, Any]) -> Any:
        """The grammar for one space and then a JSON value of ``schema`` (cached)."""
        key = json.dumps(schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

            rules = _ROOT_RULE.sub("value ::=", json_schema_to_gbnf(key), count=1)
            grammar = LlamaGrammar.from_string(f'root ::= " " value\n{rules}', verbose=False)
            self._grammars[key] = grammar
        return grammar


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def library_cpu_features() -> set[str]:
    """The instruction sets llama.cpp was built to use ("AVX2", "AVX512", "AMX_INT8", ...):
    a build that uses one this CPU lacks crashes on the first prompt."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    return {name.strip() for name, _, value in
            (part.partition("=") for part in info.replace("CPU :", "").split("|"))
            if value.strip() == "1"}
