"""Reading one template file: YAML that keeps each value's line, checked against
``templates.schema.json`` with every error at the line of the node it is about.

YAML 1.1 reads ``on``, ``off``, ``yes``, ``no``, ``y``, ``n`` (and ``true``/``false``) as
booleans, so a key ``on:`` would be ``True``. Here every such scalar is a :class:`BooleanWord`: the
word as written, which remembers the boolean YAML 1.1 meant; the template loader makes it a
boolean only where the tool's argument is one.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Hashable, Mapping
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from assistant.errors import TemplateError

__all__ = [
    "SCHEMA_FILE",
    "BooleanWord",
    "LineStr",
    "line_of",
    "read_template_file",
    "template_schema",
]

SCHEMA_FILE = "templates.schema.json"
"""The JSON schema of a template file, shipped beside this module (for editors and docs)."""


class LineStr(str):
    """A string read from a template file, with the line it was written on."""

    line: int = 0


class BooleanWord(LineStr):
    """A scalar YAML 1.1 reads as a boolean (``on``, ``no``, ``true``), kept as written."""

    boolean: bool = False


def line_of(value: object) -> int:
    """The line a string value was written on (0 for values without one)."""
    return value.line if isinstance(value, LineStr) else 0


class _Loader(yaml.SafeLoader):
    pass


def _construct_str(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> LineStr:
    value = LineStr(loader.construct_scalar(node))
    value.line = node.start_mark.line + 1
    return value


def _construct_word(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> BooleanWord:
    value = BooleanWord(loader.construct_scalar(node))
    value.line = node.start_mark.line + 1
    value.boolean = bool(loader.construct_yaml_bool(node))
    return value


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping that refuses a key written twice (YAML would keep the last silently)."""
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    first_lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word", key_node.start_mark)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"{key!s} is written twice (first on line {first_lines[key]})",
                key_node.start_mark)
        first_lines[key] = key_node.start_mark.line + 1
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_word)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


@cache
def template_schema() -> Mapping[str, Any]:
    """The JSON schema every template file is checked against."""
    text = files("assistant.nlu").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: Mapping[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(template_schema())


def read_template_file(path: Path) -> tuple[dict[str, Any], yaml.Node]:
    """The file's mapping (strings with their lines) and its YAML node tree; raises
    :class:`TemplateError` at the line of the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise TemplateError(path, 0, f"cannot read templates: {err}") from err
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        document = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err)
        raise TemplateError(path, line, f"invalid YAML: {problem}") from err
    finally:
        loader.dispose()
    if root is None or not isinstance(document, dict):
        line = root.start_mark.line + 1 if root is not None else 1
        raise TemplateError(path, line, "expected a mapping with 'tools:'")
    # An unknown key first: a misspelled "sentence:" also makes "sentences:" missing.
    errors = sorted(_validator().iter_errors(document), key=lambda e: (
        _node_at(root, list(e.absolute_path)).start_mark.line,
        e.validator != "additionalProperties"))
    if errors:
        line, message = _explain(errors[0], root)
        elsewhere = {tuple(e.absolute_path) for e in errors} - {tuple(errors[0].absolute_path)}
        more = f" (and problems in {len(elsewhere)} more places)" if elsewhere else ""
        raise TemplateError(path, line, message + more)
    return document, root


def _node_at(root: yaml.Node, path: list[Any]) -> yaml.Node:
    """The node at a JSON path into the document (the deepest that exists)."""
    node = root
    for step in path:
        if isinstance(node, yaml.MappingNode):
            found = next((value for key, value in node.value if key.value == str(step)), None)
            if found is None:
                return node
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) \
                and step < len(node.value):
            node = node.value[step]
        else:
            return node
    return node


def _key_node(mapping: yaml.Node, key: str) -> yaml.Node:
    if isinstance(mapping, yaml.MappingNode):
        for key_node, _value in mapping.value:
            if key_node.value == key:
                found: yaml.Node = key_node
                return found
    return mapping


def _where(path: list[Any]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else str(step)
    return text


def _explain(error: jsonschema.ValidationError, root: yaml.Node) -> tuple[int, str]:
    """The line and a message saying what to change, for one schema error."""
    path = list(error.absolute_path)
    node = _node_at(root, path)
    where = _where(path)
    prefix = f"{where}: " if where else ""
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        extra = [key for key in error.instance if key not in allowed]
        if extra and allowed:
            key = str(extra[0])
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return (_key_node(node, key).start_mark.line + 1,
                    f"{prefix}unknown key {key!r}{hint} (allowed here: {', '.join(allowed)})")
    return node.start_mark.line + 1, f"{prefix}{error.message}"
