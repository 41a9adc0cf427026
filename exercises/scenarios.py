"""Scenario packs: a tabletop exercise written as a YAML or JSON file, checked against a schema.

A scenario names the incident it plays (title, kind, severity, scope, impacts, the systems it
takes down, the clock's speed) and its injects: what happens at a time on the incident's
clock, to whom, and what it changes. Errors point at the line of the file that is wrong.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from incidents.models import Incident, Role, System

SHIPPED = Path(__file__).resolve().parent / "scenarios"
MAX_BYTES = 200_000

# Who an inject can go to: a district role, or everyone playing.
EVERYONE = "everyone"
RECIPIENTS = [EVERYONE, *[r.value for r in Role if r != Role.TRANSLATOR]]

AT_PATTERN = r"^([0-9]{1,2}):([0-5][0-9])$"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "kind", "severity", "scope", "injects"],
    "properties": {
        "title": {"type": "string", "minLength": 5, "maxLength": 200},
        "summary": {"type": "string", "maxLength": 2000},
        "kind": {"enum": list(Incident.Kind.values)},
        "severity": {"enum": list(Incident.Severity.values)},
        "scope": {
            "oneOf": [
                {"const": "all schools"},
                {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
            ]
        },
        "impacts": {"type": "array", "items": {"enum": list(Incident.Impact.values)}},
        "systems": {"type": "array", "items": {"enum": list(System.Category.values)}},
        "speed": {
            "type": "integer",
            "minimum": Incident.MIN_TIME_SCALE,
            "maximum": Incident.MAX_TIME_SCALE,
        },
        "injects": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["at", "to", "text"],
                "properties": {
                    "at": {"type": "string", "pattern": AT_PATTERN},
                    "to": {
                        "oneOf": [
                            {"enum": RECIPIENTS},
                            {"type": "array", "minItems": 1, "items": {"enum": RECIPIENTS}},
                        ]
                    },
                    "from": {"type": "string", "maxLength": 200},
                    "text": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "changes": {
                        "type": "object",
                        "additionalProperties": False,
                        "minProperties": 1,
                        "properties": {
                            "known": {"type": "string", "minLength": 1, "maxLength": 1000},
                            "system": {"enum": list(System.Category.values)},
                            "question": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["text"],
                                "properties": {
                                    "school": {"type": "string", "minLength": 1},
                                    "text": {"type": "string", "minLength": 1, "maxLength": 2000},
                                },
                            },
                            "briefing_request": {"$ref": "#/$defs/request"},
                            "media_inquiry": {"$ref": "#/$defs/request"},
                        },
                    },
                },
            },
        },
    },
    "$defs": {
        "request": {
            "type": "object",
            "additionalProperties": False,
            "required": ["from", "respond_within"],
            "properties": {
                "from": {"type": "string", "minLength": 1, "maxLength": 200},
                "question": {"type": "string", "maxLength": 1000},
                "respond_within": {"type": "string", "pattern": AT_PATTERN},
            },
        }
    },
}

# The phase clock ends at 72 hours; an inject later than that would never be reached.
LAST_INJECT = timedelta(hours=72)


class ScenarioError(ValueError):
    """A scenario file that cannot be played, with every problem found and its line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Inject:
    number: int
    at: timedelta
    to: tuple[str, ...]
    text: str
    sender: str = ""
    changes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    title: str
    kind: str
    severity: int
    all_schools: bool
    schools: tuple[str, ...]
    impacts: tuple[str, ...]
    systems: tuple[str, ...]
    speed: int
    injects: tuple[Inject, ...]
    summary: str = ""
    data: dict = field(default_factory=dict, compare=False)


def span(text: str) -> timedelta:
    """'1:30' as a span on the incident's clock."""
    hours, minutes = re.match(AT_PATTERN, text).groups()
    return timedelta(hours=int(hours), minutes=int(minutes))


def parse(text: str | bytes, *, name: str = "the scenario") -> Scenario:
    """Read a scenario from YAML or JSON text, or raise ScenarioError naming each problem."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise ScenarioError([f"{name} is larger than {MAX_BYTES // 1000} kB."])
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioError([f"{name} is not UTF-8 text."]) from None
    loader = None
    try:
        # One read: the node tree gives the lines for errors, and the data is built from it.
        loader = yaml.SafeLoader(text)
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ScenarioError([f"{where}{error.problem or error}"]) from None
    except yaml.YAMLError as error:
        raise ScenarioError([f"{name} is not YAML or JSON: {error}"]) from None
    except ValueError:
        # A number too long for Python to read, say.
        raise ScenarioError([f"{name} holds a value that cannot be read."]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise ScenarioError([f"{name} must be a mapping with title, kind, severity, …"])
    validator = jsonschema.Draft202012Validator(SCHEMA)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        problems.append(f"line {_line(root, list(error.path))}: {_where(error.path)}{_say(error)}")
    if problems:
        raise ScenarioError(problems)
    injects = []
    last = timedelta(0)
    for number, item in enumerate(data["injects"], start=1):
        at = span(item["at"])
        line = _line(root, ["injects", number - 1, "at"])
        if at < last:
            problems.append(
                f"line {line}: injects[{number - 1}].at: {item['at']} comes before the inject "
                "above it; list injects in the order they happen."
            )
        if at > LAST_INJECT:
            problems.append(f"line {line}: injects[{number - 1}].at: give a time up to 72:00.")
        last = at
        to = item["to"] if isinstance(item["to"], list) else [item["to"]]
        injects.append(
            Inject(
                number=number,
                at=at,
                to=tuple(dict.fromkeys(to)),
                text=item["text"].strip(),
                sender=item.get("from", "").strip(),
                changes=item.get("changes", {}),
            )
        )
    if problems:
        raise ScenarioError(problems)
    scope = data["scope"]
    return Scenario(
        title=data["title"].strip(),
        summary=data.get("summary", "").strip(),
        kind=data["kind"],
        severity=data["severity"],
        all_schools=scope == "all schools",
        schools=() if scope == "all schools" else tuple(scope),
        impacts=tuple(data.get("impacts", [])),
        systems=tuple(data.get("systems", [])),
        speed=data.get("speed", 60),
        injects=tuple(injects),
        data=data,
    )


@functools.cache
def shipped() -> dict[str, Scenario]:
    """The scenarios that come with the console, by file name without its extension. They
    ship with the code, so they are read once per process."""
    return {
        path.stem: parse(path.read_text(encoding="utf-8"), name=path.name)
        for path in sorted(SHIPPED.glob("*.yaml"))
    }


def _where(path) -> str:
    parts = ""
    for part in path:
        parts += f"[{part}]" if isinstance(part, int) else (f".{part}" if parts else str(part))
    return f"{parts}: " if parts else ""


def _say(error: jsonschema.ValidationError) -> str:
    """jsonschema's message, in words a district's writer can act on."""
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(error.schema.get("properties", {}))
        return f"unknown field {', '.join(extra)}; the fields here are {allowed}."
    if error.validator == "required":
        return error.message.replace("is a required property", "is missing") + "."
    if error.validator == "pattern":
        return (
            f"{error.instance!r} is not a time on the incident's clock; "
            "write hours:minutes, as 1:30."
        )
    if error.validator in ("enum", "const"):
        choices = error.schema.get("enum") or [error.schema.get("const")]
        return f"{error.instance!r} is not one of: {', '.join(map(str, choices))}."
    if error.validator == "maxLength":
        return f"is longer than {error.validator_value:,} characters; shorten it."
    if error.validator == "minLength":
        return "is empty; write it, or leave the field out where it is optional."
    if error.validator == "oneOf":
        if "scope" in error.path:
            return 'write "all schools" or a list of school names.'
        roles = ", ".join(RECIPIENTS)
        return f"{error.instance!r} is not a role, everyone, or a list of roles ({roles})."
    return error.message + "."


def _line(root: yaml.Node | None, path: list) -> int:
    """The line (from 1) of the YAML node at ``path``, or of its nearest parent."""
    node = root
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node = child
    return node.start_mark.line + 1 if node is not None else 1


def dump(data: dict) -> str:
    """A scenario kept as data, written back as YAML to be read again."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def recipients_label(to) -> str:
    """'Everyone', or the roles an inject goes to, by their names."""
    if EVERYONE in to:
        return "Everyone"
    labels = dict(Role.choices)
    return ", ".join(labels.get(role, role) for role in to)
