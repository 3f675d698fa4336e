"""Read a YAML or JSON file and remember where each value came from.

World files and scenario files are written by people and by other tools; when one is
wrong the user needs ``file:line: path: reason`` for *every* problem, not a stack trace
for the first. This module parses the text once with PyYAML (its C loader when
present), keeps the node tree's line numbers keyed by the value's path, and refuses
what would make parsing dangerous or ambiguous: YAML aliases (the "billion laughs"
expansion) and keys that appear twice in one mapping (PyYAML would silently keep the
last one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BeforeValidator, Field

from cityeye.errors import Problem as Problem  # re-exported: every file checker uses it
from cityeye.errors import ProblemsError

try:  # the C loader is ~10x faster on large GeoJSON boundaries
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: Largest file accepted; a district with every grid boundary fits in a few MiB.
MAX_BYTES = 256 * 1024 * 1024

PathPart = str | int
DataPath = tuple[PathPart, ...]


def format_path(path: DataPath) -> str:
    """``("areas", 3, "parent")`` → ``areas[3].parent``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass(slots=True)
class SourceDoc:
    """Parsed data plus the line of every value (1-based); ``source``: the file's name
    (for its errors). :meth:`problem` is how every file's checks say what is wrong
    where: the world file, scenarios, notify file, MQTT map and hotline mapping."""

    data: Any
    lines: dict[DataPath, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    source: str = "(text)"

    def line_of(self, path: DataPath) -> int | None:
        """The line of ``path``, else of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(path[:cut])
            if line is not None:
                return line
        return None

    def problem(self, path: DataPath, message: str) -> Problem:
        return Problem(format_path(path), message, self.line_of(path))


class SourceError(ProblemsError):
    """The file could not be parsed at all (not YAML, not UTF-8, too large, aliases);
    a :class:`~cityeye.errors.ProblemsError`."""


def _walk(node: yaml.Node, path: DataPath, doc: SourceDoc, seen: set[int]) -> None:
    if id(node) in seen:
        doc.problems.append(
            Problem(
                format_path(path), "YAML aliases (*name) are not allowed", node.start_mark.line + 1
            )
        )
        return
    seen.add(id(node))
    doc.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in keys:
                doc.problems.append(
                    Problem(
                        format_path((*path, key)),
                        "appears twice in the same mapping",
                        key_node.start_mark.line + 1,
                    )
                )
            keys.add(key)
            _walk(value_node, (*path, key), doc, seen)
            # a person looks for the key, not for where its (block) value begins
            doc.lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), doc, seen)


def parse_text(text: str, source: str = "(text)") -> SourceDoc:
    """Parse YAML (JSON is YAML too) into data and a line map; ``source`` names the
    file in its problems."""
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else None
            raise SourceError(
                source, [Problem("(document)", str(exc.problem or exc), line)]
            ) from None
        except yaml.YAMLError as exc:
            raise SourceError(source, [Problem("(document)", str(exc))]) from None
        doc = SourceDoc(data=None, source=source)
        if node is None:
            return doc
        _walk(node, (), doc, set())
        if any("aliases" in p.message for p in doc.problems):
            raise SourceError(source, doc.problems)
        try:
            doc.data = loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise SourceError(source, [Problem("(document)", str(exc))]) from None
        return doc
    finally:
        loader.dispose()


def read_source(path: Path) -> SourceDoc:
    """Read and parse a file, refusing files too large or not UTF-8."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SourceError(
            str(path),
            [Problem("(document)", f"file is {size} bytes; at most {MAX_BYTES} accepted")],
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            str(path), [Problem("(document)", f"not UTF-8 text ({exc.reason})")]
        ) from None
    return parse_text(text, str(path))


_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(value: Any) -> Any:
    """``"90s"``, ``"10m"``, ``"2h30m"``, ``"1d"`` or a number of seconds → seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        match = _DURATION_RE.match(value.strip())
        if match and any(match.groups()):
            d, h, m, s = (int(g or 0) for g in match.groups())
            return d * 86400 + h * 3600 + m * 60 + s
    raise ValueError(f"{value!r} is not a duration such as 90s, 10m, 2h or 1d")


#: A positive duration in a source file, in seconds.
Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
