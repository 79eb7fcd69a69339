"""Where a request was spoken, as context for its arguments.

A satellite has an area and a zone. A tool argument whose slot names ``context`` takes the
speaker's value when the request does not say one ("I'm cold" from the rear seat warms the
rear zone; "stop this machine" at the lathe's station stops the lathe), and words meaning
the speaker's own ("my window") mean the speaker's zone, or nothing (so the assistant
asks) where the zone names none of the argument's values. A value the request names is
kept: "warm the driver's side" from the rear still warms the driver's side. The context is
matched against the argument's own spoken forms, so a skill never sees a value it does not
know.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.dispatch.catalog import ArgSpec
from assistant.skill_api import SpeakerContext

__all__ = ["SpeakerContext", "in_speakers_context"]


def in_speakers_context(specs: Mapping[str, ArgSpec], arguments: Mapping[str, Any],
                        said: str, speaker: SpeakerContext | None) -> dict[str, Any]:
    """``arguments`` with the speaker's values for what ``said`` (the normalized request,
    digits form) leaves out or says as the speaker's own."""
    filled = dict(arguments)
    if speaker is None:
        return filled
    padded = f" {said} "
    for name, spec in specs.items():
        zone = speaker.get(spec.context) if spec.context else ""
        if not zone:
            continue
        forms = [form for form in spec.values if f" {form} " in padded]
        mine = [form for form in forms if form in spec.speaker_words]
        named = [form for form in forms if form not in spec.speaker_words
                 and not any(f" {form} " in f" {own} " for own in mine)]
        if named:
            continue
        value = _context_value(spec, zone)
        if value is not None:
            filled[name] = value
        elif mine:  # "my window" in a zone no window is named for: ask which
            filled.pop(name, None)
    return filled


def _context_value(spec: ArgSpec, zone: str) -> Any:
    """The argument's value for the speaker's zone: the whole zone as one of its spoken
    forms ("rear left"), else one of its words ("rear" for a zone argument)."""
    words = " ".join(zone.lower().replace("_", " ").split())
    if words in spec.values:
        return _plain(spec.values[words])
    for word in words.split():
        if word in spec.values:
            return _plain(spec.values[word])
    return None


def _plain(value: Any) -> Any:
    """The value as the matcher gives it (an enum's value, not the enum)."""
    return getattr(value, "value", value)
