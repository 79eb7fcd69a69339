"""What the recognizers are told to expect: Whisper's prompt of plain command sentences,
and the words Vosk may choose from."""

from __future__ import annotations

from collections.abc import Iterable

from assistant.dispatch.catalog import Catalog, unqualified_list
from assistant.nlu.expand import canonical_sentence
from assistant.nlu.templates import TemplateSentence

__all__ = ["NUMBER_WORDS", "command_prompt", "vosk_phrases"]

NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    "hundred", "thousand", "point", "minus", "and", "a", "half", "quarter", "quarters",
)
"""Every word a number is said with, for a recognizer restricted to the skills' words."""


def command_prompt(sentences: Iterable[TemplateSentence], catalog: Catalog) -> str:
    """One plain sentence per tool, from its first template (how commands here sound),
    then the configured names ("Machines: press one, lathe, ..."), last because a long
    prompt is cut from the front."""
    seen: set[str] = set()
    spoken = []
    for template in sentences:
        if template.example or template.tool in seen:
            continue
        seen.add(template.tool)
        text = canonical_sentence(template, catalog.specs[template.tool])
        spoken.append(text[:1].upper() + text[1:] + ".")
    for list_name, values in catalog.lists.items():
        names = [aliases[0] if aliases else ident.replace("_", " ")
                 for ident, aliases in values.items()]
        spoken.append(f"{unqualified_list(list_name).capitalize()}: {', '.join(names)}.")
    return " ".join(spoken)


def vosk_phrases(vocabulary: Iterable[str]) -> list[str]:
    """The skills' words and the number words: all a restricted Vosk may hear."""
    return [*sorted(vocabulary), *NUMBER_WORDS]
