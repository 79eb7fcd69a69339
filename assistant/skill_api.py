"""What a skill author writes against: tools, safety classes, slot markers, results.

A skill is a Python package exposing a :class:`Skill` through the ``assistant.skills``
entry-point group. Its tools are pydantic models (types, ranges, enums) whose fields carry a
:class:`Slot` marker saying how the argument is spoken; its sentence templates live in a
YAML file beside it; :meth:`Skill.create` builds the tools bound to a back end.

A skill may declare its settings as a pydantic model (``Skill(settings=...)``): they are
read from ``[skills.<name>]`` in the configuration file, overridden by
``ASSISTANT_SKILLS__<NAME>__<KEY>``, validated by ``assistant config check`` and given to
:meth:`Skill.create` as ``context.settings``.

Three hooks are optional: ``simulate`` starts what stands behind the skill's bus (for the
demo and tests), ``diagnose`` adds the skill's lines to ``assistant doctor``, and
``check_config`` finds what is wrong in the skill's configuration for ``assistant config
check``. Each is given the skill's configuration, the same mapping :meth:`Skill.create` gets
as ``context.config`` (the validated settings as plain values).

Everything a skill needs is exported here: the errors a back end raises, the spoken
formatting helpers, and the :class:`Backend` lifecycle. Nothing else in ``assistant`` is
meant for skills.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from pydantic import BaseModel, ConfigDict

from assistant.errors import AssistantError, BackendError, SkillLoadError, UnconfirmedError
from assistant.spoken import format_number, spoken_duration, spoken_list

__all__ = [
    "AssistantError",
    "Backend",
    "BackendError",
    "BusFault",
    "ConfigProblem",
    "Finding",
    "Interlock",
    "NoArguments",
    "Safety",
    "Simulation",
    "Skill",
    "SkillContext",
    "SkillLoadError",
    "SkillRuntime",
    "Slot",
    "SlotKind",
    "SpeakerContext",
    "Tool",
    "ToolResult",
    "UnconfirmedError",
    "format_number",
    "spoken_duration",
    "spoken_list",
    "tool",
]


class Safety(StrEnum):
    """How the dispatcher treats a tool, whatever tier decided the call."""

    PLAIN = "plain"
    CONFIRM = "confirm"
    IMMEDIATE = "immediate"


class SlotKind(StrEnum):
    """How an argument's value is found in an utterance."""

    NUMBER = "number"
    ENUM = "enum"
    BOOLEAN = "boolean"
    TEXT = "text"
    DURATION = "duration"
    CONFIGURED = "configured"


@dataclass(frozen=True)
class Slot:
    """How an argument is spoken; put it in the field's ``Annotated`` metadata.

    ``label`` and ``unit`` make replies ("The temperature can be set from 16 to 30 degrees").
    ``aliases`` maps a value to the words that say it ("halfway" -> 50, "my side" -> driver).
    ``kind`` overrides the kind derived from the type: TEXT for free text captured as spoken,
    DURATION for seconds said as "two and a half minutes", CONFIGURED for ids whose names
    come from configuration (``list_name`` names the list the skill provides).
    ``question`` asks for the argument when a request leaves it out (default "Which
    <label>?"); a number's range is added to it ("To what temperature? 16 to 30 degrees.").
    A bare number answering a DURATION's question ("For how long?" "2") is in ``unit``
    (seconds, minutes or hours; seconds when empty): say the unit in the question.
    ``list_name`` is one of the skill's own lists, or another skill's by its qualified name
    (``"vehicle.zone"``).
    ``context`` names what of the speaker's context (:class:`SpeakerContext`: ``"zone"`` or
    ``"area"``) this argument defaults to when a request does not say it: "I'm cold" from
    the rear seat warms the rear. ``speaker_words`` are spoken forms that mean the
    speaker's own ("my", "mine"): with a speaker context they take its value too ("open my
    window" from the passenger seat). A request naming a value still gets that value.
    """

    label: str = ""
    unit: str = ""
    aliases: Mapping[Any, tuple[str, ...]] = field(default_factory=dict)
    kind: SlotKind | None = None
    list_name: str = ""
    question: str = ""
    context: str = ""
    speaker_words: tuple[str, ...] = ()


class NoArguments(BaseModel):
    """The argument model of a tool that takes none."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class ToolResult:
    """What a handler reports: whether the action happened, and what to say."""

    ok: bool
    message: str


@dataclass(frozen=True)
class Interlock:
    """A condition of the controlled system under which a tool is refused.

    ``check`` returns the spoken reason while the condition holds, else ``None``.
    """

    description: str
    check: Callable[[BaseModel], Awaitable[str | None]]


ArgsT = TypeVar("ArgsT", bound=BaseModel)


@dataclass(frozen=True)
class Tool:
    """One callable action, its argument model, safety class and handler."""

    name: str
    description: str
    arguments: type[BaseModel]
    handler: Callable[[BaseModel], Awaitable[ToolResult]]
    safety: Safety = Safety.PLAIN
    safety_for: Callable[[BaseModel], Safety] | None = None
    interlocks: tuple[Interlock, ...] = ()
    readback: Callable[[BaseModel], str] | None = None
    changes: bool = True
    """False for a tool that only tells (a status, the time): a mishearing of it costs an
    answer, not an action, so it is never read back first."""

    def safety_of(self, arguments: BaseModel) -> Safety:
        """The safety class of this call (some tools escalate with their arguments)."""
        if self.safety_for is not None:
            return self.safety_for(arguments)
        return self.safety


def tool(
    name: str,
    arguments: type[ArgsT],
    handler: Callable[[ArgsT], Awaitable[ToolResult]],
    *,
    description: str,
    safety: Safety = Safety.PLAIN,
    safety_for: Callable[[ArgsT], Safety] | None = None,
    interlocks: tuple[tuple[str, Callable[[ArgsT], Awaitable[str | None]]], ...] = (),
    readback: Callable[[ArgsT], str] | None = None,
    changes: bool = True,
) -> Tool:
    """Declare a tool with handlers typed by its own argument model."""
    return Tool(
        name=name,
        description=description,
        arguments=arguments,
        handler=cast(Callable[[BaseModel], Awaitable[ToolResult]], handler),
        safety=safety,
        safety_for=cast(Callable[[BaseModel], Safety] | None, safety_for),
        interlocks=tuple(
            Interlock(text, cast(Callable[[BaseModel], Awaitable[str | None]], check))
            for text, check in interlocks
        ),
        readback=cast(Callable[[BaseModel], str] | None, readback),
        changes=changes,
    )


@dataclass(frozen=True)
class SpeakerContext:
    """Where a request was spoken: the satellite that heard it, its area ("car", "shop
    floor") and its zone ("rear", "passenger", "lathe"). A tool argument whose
    :class:`Slot` names ``context`` defaults to the zone's (or area's) value; the
    dispatcher records the satellite and area with every call."""

    satellite: str = ""
    area: str = ""
    zone: str = ""

    def get(self, key: str) -> str:
        return {"satellite": self.satellite, "area": self.area, "zone": self.zone}.get(key, "")


@dataclass(frozen=True)
class SkillContext:
    """What a skill is given to build itself.

    ``settings`` is the skill's validated settings model (``None`` when the skill declares
    none); ``config`` holds the same values as a plain mapping (what the hooks get).
    ``notify`` lets a skill speak unprompted (a timer rings). ``connect`` is false when
    nothing will really run (``assistant parse``, ``chat`` without buses, tests): the skill
    then opens no bus or device and builds on an in-memory stand-in.
    """

    config: Mapping[str, Any] = field(default_factory=dict)
    notify: Callable[[str], None] = lambda _text: None
    settings: BaseModel | None = None
    connect: bool = False


@runtime_checkable
class Backend(Protocol):
    """What the assistant does with a skill's back end (``SkillRuntime.backend``), both
    optional: ``start`` once before the first command (connect, start a poller), ``aclose``
    at shutdown or when skills are reloaded (close connections). A back end that needs
    neither need not define them."""

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class SkillRuntime:
    """A skill built against its back end: tools, id lists for CONFIGURED slots."""

    tools: tuple[Tool, ...]
    lists: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    backend: object = None


class BusFault(StrEnum):
    """How a simulated back end's bus fails, when a test breaks it on purpose."""

    NONE = "none"
    DOWN = "down"
    """Nothing answers; nothing is done."""
    NO_ACK = "no_ack"
    """Commands are carried out, their confirmation never comes; reads get no answer."""


@dataclass(frozen=True)
class Simulation:
    """What a skill's simulator started.

    ``config`` is the skill's configuration as it reaches the simulator (a free port it
    picked written in); ``description`` is what runs, for a person ("PLC simulator on
    127.0.0.1:5020"); ``simulated`` is the simulated system itself, for tests to act on.
    """

    config: Mapping[str, Any]
    description: str
    simulated: object


@dataclass(frozen=True)
class Finding:
    """One line of ``assistant doctor``: what was checked, and the fix when it failed."""

    ok: bool
    area: str
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a skill's configuration; ``key`` is relative to the skill's
    section ("modbus.port" in the factory skill is reported as "skills.factory.modbus.port")."""

    key: str
    message: str


@dataclass(frozen=True)
class Skill:
    """A skill as published through the ``assistant.skills`` entry points."""

    name: str
    templates: Path
    create: Callable[[SkillContext], SkillRuntime]
    settings: type[BaseModel] | None = None
    """The skill's settings (``[skills.<name>]``); its fields' descriptions and defaults are
    what ``assistant skills list`` and ``config show`` print."""
    simulate: Callable[[Mapping[str, Any]],
                       AbstractAsyncContextManager[Simulation | None]] | None = None
    """Start what stands behind the skill's bus for as long as the context is entered;
    yields ``None`` when the configuration does not ask for a simulator."""
    diagnose: Callable[[Mapping[str, Any]], Awaitable[Sequence[Finding]]] | None = None
    """Check what the skill needs of this machine (can it reach its controller); called
    with the simulators already running."""
    check_config: Callable[[Mapping[str, Any]], Sequence[ConfigProblem]] | None = None
    """Every problem in the skill's configuration, without opening a device or a bus."""
