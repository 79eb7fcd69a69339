"""The loaded tools, how each argument is spoken, and validation with spoken reasons.

Understanding and the dispatcher share one :class:`Catalog`, so a value the matcher
extracts is checked by exactly the model that guards the back end.
"""

from __future__ import annotations

import enum
import inspect
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from assistant.errors import SkillLoadError
from assistant.nlu.normalize import normalize
from assistant.skill_api import Safety, Slot, SlotKind, Tool
from assistant.spoken import format_number, spoken_list

__all__ = ["ArgSpec", "Catalog", "Checked", "list_key", "unqualified_list"]

IdLists = Mapping[str, Mapping[str, tuple[str, ...]]]
"""Configured ids by list name, each id with the names it is spoken by."""


def list_key(skill: str, name: str) -> str:
    """A skill's list by its qualified name: ``vehicle.zone``."""
    return f"{skill}.{name}"


def unqualified_list(key: str) -> str:
    """The list's own name, without the skill it belongs to ("machines")."""
    return key.rpartition(".")[2]


@dataclass(frozen=True)
class ArgSpec:
    """One argument of one tool, as understanding and replies need it."""

    name: str
    kind: SlotKind
    required: bool
    default: Any
    minimum: float | None
    maximum: float | None
    label: str
    unit: str
    question: str
    values: Mapping[str, Any]
    """Spoken form (normalized, digits form and words form) -> value."""
    examples: tuple[str, ...] = ()
    """What a user might say for it (the pydantic field's ``examples``): how a free-text
    argument sounds in the recognizer's prompt."""
    context: str = ""
    """The speaker's context key it defaults to (:class:`assistant.skill_api.Slot`)."""
    speaker_words: tuple[str, ...] = ()

    @property
    def allowed(self) -> str:
        """What may be said, for refusals ("from 16 to 30 degrees")."""
        if self.kind in {SlotKind.NUMBER, SlotKind.DURATION}:
            unit = f" {self.unit}" if self.unit else ""
            if self.minimum is not None and self.maximum is not None:
                low, high = format_number(self.minimum), format_number(self.maximum)
                return f"from {low} to {high}{unit}"
            return f"a number{unit}"
        if self.values:
            names = sorted({str(_spoken_value(v)) for v in self.values.values()})
            return "one of " + ", ".join(names)
        return "any words"


def _spoken_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return str(value.value).replace("_", " ")
    return str(value).replace("_", " ")


@dataclass(frozen=True)
class Checked:
    """A call checked against its model: the model, or what is missing or wrong."""

    model: BaseModel | None
    arguments: dict[str, Any]
    missing: tuple[str, ...] = ()
    error: str | None = None


class Catalog:
    """Tools by name with their argument specs and the configured id lists."""

    def __init__(
        self,
        tools: Mapping[str, Tool],
        lists: IdLists,
        owners: Mapping[str, str] | None = None,
    ) -> None:
        """``owners`` (tool -> skill) makes list names per skill: ``lists`` is then keyed by
        qualified names (:func:`list_key`), and a slot's ``list_name`` is its own skill's
        list, or another's when qualified (``vehicle.zone``). A name that is no list, or an
        unqualified one two other skills export, raises :class:`SkillLoadError`. Without
        ``owners`` the names are looked up as they are."""
        self.tools: dict[str, Tool] = dict(tools)
        self.lists = lists
        self.specs: dict[str, dict[str, ArgSpec]] = {}
        for name, tool in self.tools.items():
            owner = owners.get(name) if owners is not None else None
            self.specs[name] = {
                field_name: _arg_spec(field_name, info, _ListsOf(tool, field_name, owner, lists))
                for field_name, info in tool.arguments.model_fields.items()
            }

    def tool(self, name: str) -> Tool:
        try:
            return self.tools[name]
        except KeyError:
            known = ", ".join(sorted(self.tools))
            raise KeyError(f"unknown tool {name!r}; known tools: {known}") from None

    def check(self, tool_name: str, arguments: Mapping[str, Any]) -> Checked:
        """Validate a call; never clamps, never guesses."""
        tool = self.tool(tool_name)
        specs = self.specs[tool_name]
        raw = {k: v for k, v in arguments.items() if v is not None}
        unknown = sorted(set(raw) - set(specs))
        if unknown:
            return Checked(None, dict(raw), error=f"{tool_name} takes no {', '.join(unknown)}.")
        missing = tuple(n for n, s in specs.items() if s.required and n not in raw)
        for name, spec in specs.items():
            if spec.kind == SlotKind.CONFIGURED and name in raw:
                known_ids = {str(v) for v in spec.values.values()}
                if str(raw[name]) not in known_ids:
                    known = sorted({str(_spoken_value(v)) for v in spec.values.values()})
                    reason = f"I don't know a {spec.label or name} called {raw[name]}"
                    reason += f"; I know {spoken_list(known)}." if known else "."
                    return Checked(None, dict(raw), missing, reason)
        if missing:
            return Checked(None, self._with_defaults(tool_name, raw), missing)
        try:
            model = tool.arguments.model_validate(raw)
        except ValidationError as err:
            return Checked(None, self._with_defaults(tool_name, raw), (), self._reason(specs, err))
        return Checked(model, model.model_dump(mode="json", exclude_none=True))

    def free_words(self, tool_name: str, arguments: Mapping[str, Any]) -> list[str]:
        """The call's free-text arguments (a destination, a song, a note): words that no
        vocabulary checks."""
        specs = self.specs[tool_name]
        return [name for name in arguments if specs[name].kind == SlotKind.TEXT]

    def safety(self, tool_name: str, arguments: Mapping[str, Any]) -> Safety:
        """The safety class a call would have (some tools escalate with their arguments)."""
        tool = self.tool(tool_name)
        model = self.check(tool_name, arguments).model
        return tool.safety_of(model) if model is not None else tool.safety

    def _with_defaults(self, tool_name: str, raw: Mapping[str, Any]) -> dict[str, Any]:
        filled = dict(raw)
        for name, spec in self.specs[tool_name].items():
            if name not in filled and not spec.required and spec.default is not None:
                filled[name] = _json_value(spec.default)
        return filled

    @staticmethod
    def _reason(specs: Mapping[str, ArgSpec], err: ValidationError) -> str:
        first = err.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        spec = specs.get(name)
        if spec is None:
            return f"That request is not valid: {first['msg']}."
        label = spec.label or name.replace("_", " ")
        if spec.kind in (SlotKind.NUMBER, SlotKind.DURATION):
            if str(first["type"]).startswith("int_"):
                return f"The {label} must be a whole number {spec.allowed}."
            return f"The {label} can be set {spec.allowed}."
        return f"The {label} can be {spec.allowed}."


def _json_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _slot_of(info: FieldInfo) -> Slot:
    for item in info.metadata:
        if isinstance(item, Slot):
            return item
    return Slot()


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    low: float | None = None
    high: float | None = None
    for item in info.metadata:
        if isinstance(item, Ge):
            low = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, Gt):
            low = float(item.gt)  # type: ignore[arg-type]
        elif isinstance(item, Le):
            high = float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, Lt):
            high = float(item.lt)  # type: ignore[arg-type]
    return low, high


def _base_type(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return members[0] if members else annotation
    return annotation


def _kind(slot: Slot, base: Any) -> SlotKind:
    if slot.kind is not None:
        return slot.kind
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return SlotKind.ENUM
    if base is bool:
        return SlotKind.BOOLEAN
    if base in (int, float):
        return SlotKind.NUMBER
    return SlotKind.TEXT


def _spoken_forms(words: str) -> set[str]:
    form = normalize(words)
    return {f for f in (form.spoken, form.digits) if f}


class _ListsOf:
    """The configured lists as one tool's argument sees them (see :class:`Catalog`)."""

    def __init__(self, tool: Tool, argument: str, owner: str | None, lists: IdLists) -> None:
        self.tool, self.argument, self.owner, self.lists = tool, argument, owner, lists

    def ids(self, name: str) -> Mapping[str, tuple[str, ...]]:
        if self.owner is None:
            return self.lists.get(name, {})
        if not name:
            raise self._error("skill-list-unknown", "a CONFIGURED slot needs Slot(list_name=...)"
                              " naming a list the skill provides")
        if "." in name:
            if name in self.lists:
                return self.lists[name]
            raise self._error("skill-list-unknown", f"no list {name!r}; lists: {self._known()}")
        own = list_key(self.owner, name)
        if own in self.lists:
            return self.lists[own]
        exporters = sorted(key for key in self.lists if unqualified_list(key) == name)
        if len(exporters) > 1:
            skills = " and ".join(f"skill {key.partition('.')[0]!r}" for key in exporters)
            raise self._error("skill-list-clash",
                              f"list {name!r} is exported by both {skills}; name the one "
                              f"meant: Slot(list_name={exporters[0]!r})")
        if exporters:
            raise self._error("skill-list-unknown",
                              f"skill {self.owner!r} has no list {name!r}; to share skill "
                              f"{exporters[0].partition('.')[0]!r}'s, write "
                              f"Slot(list_name={exporters[0]!r})")
        raise self._error("skill-list-unknown", f"skill {self.owner!r} provides no list "
                          f"{name!r}; lists: {self._known()}")

    def _known(self) -> str:
        return ", ".join(sorted(self.lists)) or "none"

    def _error(self, code: str, message: str) -> SkillLoadError:
        return SkillLoadError(code, f"{_source_line(self.tool.arguments, self.argument)}: tool "
                              f"{self.tool.name!r}, argument {self.argument!r}: {message}")


def _source_line(model: type[BaseModel], field_name: str) -> str:
    """``file:line`` of a field of an argument model, for errors in a skill's code."""
    try:
        lines, first = inspect.getsourcelines(model)
        path = inspect.getsourcefile(model) or "<unknown>"
    except (OSError, TypeError):
        return f"<{model.__module__}.{model.__qualname__}>"
    for offset, text in enumerate(lines):
        if text.strip().startswith(f"{field_name}:"):
            return f"{path}:{first + offset}"
    return f"{path}:{first}"


def _values(
    kind: SlotKind,
    slot: Slot,
    base: Any,
    lists: _ListsOf,
) -> dict[str, Any]:
    pairs: list[tuple[Any, tuple[str, ...]]] = []
    if kind == SlotKind.ENUM:
        pairs = [(member, (str(member.value).replace("_", " "),)) for member in base]
    elif kind == SlotKind.BOOLEAN:
        pairs = [(True, ("on",)), (False, ("off",))]
    elif kind == SlotKind.CONFIGURED:
        pairs = [(ident, (ident.replace("_", " "), *names))
                 for ident, names in lists.ids(slot.list_name).items()]
    pairs += [(value, names) for value, names in slot.aliases.items()]
    values: dict[str, Any] = {}
    for value, names in pairs:
        for name in names:
            for form in _spoken_forms(name):
                values.setdefault(form, _json_value(value))
                for numbered in _numbered(form) if kind == SlotKind.CONFIGURED else ():
                    values.setdefault(numbered, _json_value(value))
    return values


def _numbered(form: str) -> tuple[str, ...]:
    """"press 1" is also "press number 1" and "press no 1": how people say a numbered
    name."""
    *head, last = form.split()
    if not head or not last.isdigit():
        return ()
    return tuple(f"{' '.join(head)} {word} {last}" for word in ("number", "no", "nr"))


def _question(question: str, kind: SlotKind, low: float | None, high: float | None,
              unit: str) -> str:
    """A number is asked for with what may be said: "To what temperature? 16 to 30
    degrees." """
    if kind != SlotKind.NUMBER or low is None or high is None:
        return question
    unit = f" {unit}" if unit else ""
    return f"{question} {format_number(low)} to {format_number(high)}{unit}."


def _arg_spec(name: str, info: FieldInfo, lists: _ListsOf) -> ArgSpec:
    slot = _slot_of(info)
    base = _base_type(info.annotation)
    kind = _kind(slot, base)
    low, high = _bounds(info)
    label = slot.label or name.replace("_", " ")
    return ArgSpec(
        name=name,
        kind=kind,
        required=info.is_required(),
        default=None if info.is_required() else info.default,
        minimum=low,
        maximum=high,
        label=label,
        unit=slot.unit,
        question=_question(slot.question or f"Which {label}?", kind, low, high, slot.unit),
        values=_values(kind, slot, base, lists),
        examples=tuple(str(example) for example in info.examples or ()),
        context=slot.context,
        speaker_words=slot.speaker_words,
    )
