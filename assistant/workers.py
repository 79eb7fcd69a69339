"""Worker threads for blocking inference, and which of them yield the CPU.

Listening (the wake word, voice activity, the stop spotter) must keep up with the audio
while the assistant thinks (a command's second recognizer pass, the language model). On a
2-core machine they share the cores, so thinking runs at a lower priority (a higher nice
value, per thread on Linux): measured here, the spotter's guess at a stop took 308 ms while
Whisper base decoded beside it, and 226 ms, as fast as alone, with base's thread niced.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["THINKING_NICE", "thinking", "thinking_worker"]

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
THINKING_NICE = 10
"""How much nicer than listening the threads that think are."""


def _be_nicer(thread_id: int | None = None) -> None:
    """Lower one thread's priority (this one by default); never fatal."""
    tid = threading.get_native_id() if thread_id is None else thread_id
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, max(current, THINKING_NICE)))
    except (OSError, AttributeError) as err:  # not Linux, or the thread is gone
        _LOGGER.debug("cannot lower thread %s's priority: %s", tid, err)


def thinking_worker(name: str, threads: int = 1) -> ThreadPoolExecutor:
    """Worker threads (one by default) for blocking work that may wait for listening (and
    the threads a library starts from them, which inherit their priority)."""
    return ThreadPoolExecutor(threads, thread_name_prefix=name, initializer=_be_nicer)


def thinking(load: Callable[[], T]) -> T:
    """Run ``load`` (a model that starts its own compute threads); the threads it started
    think at a lower priority. Load engines one at a time: threads another load starts
    meanwhile would be counted too."""
    before = _thread_ids()
    result = load()
    for tid in _thread_ids() - before:
        _be_nicer(tid)
    return result


def _thread_ids() -> set[int]:
    try:
        return {int(name) for name in os.listdir("/proc/self/task")}
    except OSError:
        return set()
