"""Skills installed or upgraded while the service runs, picked up on SIGHUP
(``systemctl reload assistant``) without touching the audio.

One reload, as a named task on the service's loop (a second request waits for it)::

    RELOADING=1 ─▶ re-read the configuration ─▶ forget the skills' modules, rediscover
    the entry points ─▶ build the new text core (a niced worker thread: the classifier's
    training blocks) ─▶ start its back ends ─▶ swap it in between turns ─▶ close the old
    back ends ─▶ READY=1

The audio source, wake word, voice activity and recognizer are not rebuilt; the
recognizer's prompt, judge and nearest-sentence lookup follow the new skills (cheap). A
turn in flight finishes on the old text core; a confirmation pending there is cancelled
and said, never carried over. Anything that fails before the swap (an import error, bad
templates, a duplicate tool, a ``create`` that raises, a back end that will not start)
leaves the running skills as they were and says why: a log line with the error's code, a
``notice`` event and systemd's ``STATUS=``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import sys
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from assistant.config import AssistantConfig
from assistant.dialogue import Dialogue
from assistant.errors import AssistantError
from assistant.events import EventSink, NoticeEvent
from assistant.nlu.slm import prompt_prefix
from assistant.plugins import ENTRY_POINT_GROUP, close_backends
from assistant.service import Notifier
from assistant.stt import TranscriptJudge
from assistant.stt.vocabulary import command_prompt
from assistant.wiring import Assistant, Engines, VoiceSession, build_assistant
from assistant.workers import thinking_worker

__all__ = ["ReloadResult", "SkillReloader", "forget_skill_modules", "reload_on_hangup"]

_LOG = logging.getLogger("assistant.service")
_NEVER_FORGOTTEN = frozenset({"assistant"})
"""The assistant itself is never re-imported: a skill's ``Skill`` must stay its class."""
SkillConfigs = Callable[[AssistantConfig], Mapping[str, Mapping[str, Any]] | None]
"""What the skills are given, from the configuration as re-read."""
RELOADED = "skills-reloaded"
RELOAD_REASON = "the skills were reloaded"


@dataclass(frozen=True)
class ReloadResult:
    """What one reload did: the skills now running, or why the old ones were kept."""

    ok: bool
    skills: tuple[str, ...]
    code: str
    message: str


@runtime_checkable
class _Judged(Protocol):
    """A recognizer that asks the text core about its hypotheses (Whisper)."""

    judge: TranscriptJudge | None
    nearest: Callable[[str], list[str]] | None


@runtime_checkable
class _Prompted(Protocol):
    """A recognizer biased toward the skills' sentences by a prompt (Whisper)."""

    def reprompt(self, prompt: str) -> None: ...


def forget_skill_modules(enabled: Collection[str] | None = None,
                         group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Make the next import of each skill read its files again: the import system's caches
    are invalidated and the modules of each entry point's top-level package (``enabled``
    narrows them by skill name) dropped from ``sys.modules``. Returns the packages."""
    importlib.invalidate_caches()
    packages = {point.module.partition(".")[0] for point in entry_points(group=group)
                if enabled is None or point.name in enabled} - _NEVER_FORGOTTEN
    for name in [name for name in sys.modules if name.partition(".")[0] in packages]:
        del sys.modules[name]
    return sorted(packages)


class SkillReloader:
    """Reloads ``session``'s skills on request; one reload at a time."""

    def __init__(
        self,
        session: VoiceSession,
        *,
        emit: EventSink,
        notifier: Notifier,
        reread: Callable[[], AssistantConfig],
        skill_configs: SkillConfigs = AssistantConfig.skill_configs,
        swap_timeout_s: float = 60.0,
        connect: bool = False,
    ) -> None:
        """``reread`` gives the configuration as it is now (the file, the environment);
        ``skill_configs`` what the skills are given from it (the service keeps the
        configurations of the skills whose simulators run, with the ports they picked;
        ``None``: each skill's defaults). The swap waits at most ``swap_timeout_s`` for the
        turn in flight. ``connect``: the new skills open their buses, as the running ones
        did (see :class:`assistant.skill_api.SkillContext`)."""
        self.session = session
        self._connect = connect
        self._emit = emit
        self._notifier = notifier
        self._reread = reread
        self._skill_configs = skill_configs
        self.swap_timeout_s = swap_timeout_s
        self._one_at_a_time = asyncio.Lock()
        self._waiting: asyncio.Task[ReloadResult] | None = None
        self._tasks: set[asyncio.Task[ReloadResult]] = set()
        self._count = 0
        # imports, templates and the classifier's training yield the CPU to listening
        self._worker = thinking_worker("skills-reload")

    def request(self) -> asyncio.Task[ReloadResult]:
        """Reload soon (the SIGHUP handler). While one reload runs, a second waits for it;
        more requests meanwhile join the waiting one (it reads everything afresh anyway)."""
        if self._waiting is not None and not self._waiting.done():
            return self._waiting
        self._count += 1
        task = asyncio.get_running_loop().create_task(self._queued(),
                                                      name=f"skills-reload-{self._count}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._waiting = task
        return task

    async def _queued(self) -> ReloadResult:
        async with self._one_at_a_time:
            self._waiting = None
            return await self.reload()

    async def aclose(self) -> None:
        """Cancel the reloads not yet done (the service stops)."""
        for task in list(self._tasks):
            task.cancel("the service stops")
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._worker.shutdown(wait=False, cancel_futures=True)

    async def reload(self) -> ReloadResult:
        """One reload now; the caller makes sure only one runs (see :meth:`request`)."""
        self._notifier.notify(f"RELOADING=1\nMONOTONIC_USEC={time.monotonic_ns() // 1000}")
        self._notifier.notify("STATUS=reloading skills")
        try:
            loop = asyncio.get_running_loop()
            config = await loop.run_in_executor(self._worker, self._reread)
            new = await loop.run_in_executor(self._worker, self._build, config)
        except Exception as err:  # reported and refused: the running skills go on
            return self._refused(err)
        try:
            await new.start()
            replaced = await asyncio.wait_for(self.session.pipeline.replace_text_core(
                new.dialogue, new.understanding, new.notices), self.swap_timeout_s)
        except BaseException as err:  # not swapped in: the new back ends go, the old stay
            with contextlib.suppress(Exception):
                await close_backends(new.skills.runtimes)
            if not isinstance(err, Exception):
                raise
            return self._refused(err)
        await self._swapped(new, replaced)
        skills = tuple(sorted(new.skills.runtimes))
        message = f"skills reloaded: {', '.join(skills)}"
        _LOG.info("%s", message, extra={"code": RELOADED})
        self._emit(NoticeEvent(t_ms=self.session.pipeline.clock.ms(), code=RELOADED,
                               message=message))
        self._notifier.notify("READY=1")
        self._notifier.notify(f"STATUS=listening for {config.wake.model}; {message}")
        return ReloadResult(True, skills, RELOADED, message)

    def _build(self, config: AssistantConfig) -> Assistant:
        """The new text core (blocking: imports, template loading, classifier training)."""
        forget_skill_modules(config.skills.enabled)
        old, clock = self.session.assistant, self.session.pipeline.clock
        return build_assistant(self._emit, config, skill_configs=self._skill_configs(config),
                               now_ms=clock.ms,
                               clock=clock.seconds, audit=old.audit, connect=self._connect)

    async def _swapped(self, new: Assistant, replaced: Dialogue) -> None:
        """The pipeline now runs on ``new``: the rest follows it, the old core is closed."""
        old = self.session.assistant
        self.session.assistant = new
        _retarget(self.session.engines, new, old)
        cancelled = await replaced.abandon(RELOAD_REASON)
        if cancelled:
            new.notices.put(f"{cancelled} The skills were reloaded; please ask again.")
        for text in old.notices.drain():
            new.notices.put(text)
        await replaced.dispatcher.settle()  # no bus is closed under an action
        try:
            await close_backends(old.skills.runtimes)
        except Exception as err:  # the swap is done; an old bus that closes badly is logged
            _LOG.warning("an old skill back end failed to close after the reload: %s", err)

    def _refused(self, err: Exception) -> ReloadResult:
        if isinstance(err, AssistantError):
            code, message = err.code, err.message
        elif isinstance(err, TimeoutError):
            code, message = "skill-reload-timeout", (
                f"no pause between turns within {self.swap_timeout_s:g} s; send the reload "
                "again when the assistant is idle")
        else:
            code, message = "skill-reload-failed", f"{type(err).__name__}: {err}"
        kept = tuple(sorted(self.session.assistant.skills.runtimes))
        _LOG.error("skill reload refused, the running skills are kept (%s): %s", code, message,
                   extra={"code": code, "kept": ", ".join(kept)})
        self._emit(NoticeEvent(t_ms=self.session.pipeline.clock.ms(), code=code,
                               message=f"skill reload refused: {message}"))
        self._notifier.notify("READY=1")
        self._notifier.notify(f"STATUS=reload refused ({code}): {message}"[:400])
        return ReloadResult(False, kept, code, message)


def _retarget(engines: Engines, new: Assistant, old: Assistant) -> None:
    """Point the running engines at the new text core where that is cheap."""
    understanding = new.understanding
    if isinstance(engines.stt, _Judged):
        engines.stt.judge = understanding
        if engines.stt.nearest is not None:
            engines.stt.nearest = understanding.sentences.nearest
    if isinstance(engines.stt, _Prompted):
        engines.stt.reprompt(command_prompt(new.skills.sentences, understanding.catalog))
    if engines.language_model is not None or engines.specialized is not None:
        engines.attach_model_to(understanding)
        if prompt_prefix(understanding.catalog) != prompt_prefix(old.understanding.catalog):
            _LOG.warning("the language model keeps the tool list it was started with; "
                         "restart the service for it to know the new tools")


def reload_on_hangup(reloader: SkillReloader) -> Callable[[], None]:
    """Reload on SIGHUP, on the running loop; returns what removes the handler. Where
    signals cannot be handled (not the main thread), nothing is installed."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGHUP, reloader.request)
    except (NotImplementedError, RuntimeError):
        return lambda: None

    def remove() -> None:
        loop.remove_signal_handler(signal.SIGHUP)

    return remove
