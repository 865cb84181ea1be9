"""Front matter read with python-frontmatter, every value kept a string, every key's line kept.

PyYAML's default loader retypes values silently (``0123`` becomes 83, ``no`` becomes False) and
raises a bare ValueError without a line for ``2021-13-01``. Composing with ``yaml.BaseLoader``
keeps every scalar a string, so ``kb.fields`` converts and checks each value itself, and each
key node's ``start_mark`` gives the line an editor should jump to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

from kb.problems import Problem

DELIMITER = re.compile(r"^-{3,}[ \t]*$", re.MULTILINE)


@dataclass
class FrontMatter:
    """Raw front-matter values (strings, lists, dicts of strings), their lines, and the body."""

    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1


class FrontMatterError(ValueError):
    """Front matter that cannot be read at all; carries the problems found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class LineKeepingYAMLHandler(YAMLHandler):
    """python-frontmatter handler that composes YAML with BaseLoader and records key lines.

    ``line_offset`` is the file line of the first front-matter line, so recorded lines are
    file lines, not lines within the YAML block.
    """

    def __init__(self, path: str, line_offset: int) -> None:
        super().__init__()
        self.path = path
        self.line_offset = line_offset
        self.lines: dict[str, int] = {}
        self.problems: list[Problem] = []

    def load(self, fm: str, **kwargs: object) -> Any:
        """Compose ``fm`` into plain strings, lists and dicts; record problems instead of raising."""
        try:
            node = compose(fm)
        except yaml.MarkedYAMLError as exc:
            # An unclosed quote is reported at the end of the stream; its start is more useful.
            use_context = bool(exc.context and "quoted" in exc.context and exc.context_mark)
            mark = exc.context_mark if use_context else (exc.problem_mark or exc.context_mark)
            line = self.line_offset + (mark.line if mark else 0)
            what = "a quoted value is not closed" if use_context else (exc.problem or str(exc))
            hint = "Add the closing quote on that line." if use_context else "Check the indentation and quoting on that line."
            if "'\\t'" in what:
                hint = "YAML does not allow tabs for indentation; use spaces."
            self.problems.append(Problem(self.path, line, "front matter", f"YAML syntax error: {what}.", hint))
            return {}
        except yaml.reader.ReaderError as exc:
            # Not a MarkedYAMLError: a control character anywhere in the block.
            line = self.line_offset + fm[: exc.position].count("\n")
            self.problems.append(Problem(self.path, line, "front matter",
                                         f"YAML syntax error: the control character #x{exc.character:04x} is not allowed.",
                                         "Delete it (most editors do not show it)."))
            return {}
        except RecursionError:
            self.problems.append(Problem(self.path, self.line_offset, "front matter", "YAML is nested too deeply.",
                                         "Write one 'field: value' per line, with lists at most a few levels deep."))
            return {}
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            line = self.line_offset + node.start_mark.line
            self.problems.append(
                Problem(self.path, line, "front matter", "is not a list of 'field: value' lines.",
                        "Write one 'field: value' per line, e.g. 'title: ...'.")
            )
            return {}
        values: dict[str, Any] = {}
        seen: set[int] = set()  # shared by all fields: an alias may point into an earlier field
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = self.line_offset + key_node.start_mark.line
            if key in values:
                self.problems.append(
                    Problem(self.path, line, key,
                            f"appears twice (first on line {self.lines[key]}).",
                            "Keep one of them.")
                )
                continue
            try:
                values[key] = _plain(value_node, seen)
            except _AliasError:
                self.problems.append(Problem(self.path, line, key, "YAML anchors and aliases (&, *) are not allowed.",
                                             "Write the value out."))
                continue
            self.lines[key] = line
        return values


class _AliasError(ValueError):
    """A node reached twice: a YAML alias, which could expand exponentially or loop."""


def compose(text: str) -> yaml.Node | None:
    """Compose YAML with libyaml when it is there (6x faster), else in Python; errors come from the Python loader.

    The C loader's messages and marks differ slightly, so on any error the text is composed
    again with the Python loader, which raises the error editors are shown.
    """
    loader = getattr(yaml, "CBaseLoader", None)
    if loader is not None:
        try:
            return yaml.compose(text, Loader=loader)
        except (yaml.YAMLError, RecursionError):
            pass
    return yaml.compose(text, Loader=yaml.BaseLoader)


def _plain(node: yaml.Node, seen: set[int] | None = None) -> Any:
    """Turn a composed node into strings, lists and dicts without retyping any scalar; refuse aliases."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        raise _AliasError()
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, seen) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        return {str(k.value): _plain(v, seen) for k, v in node.value}
    return None  # pragma: no cover - yaml has no other node kinds


def parse_front_matter(text: str, path: str) -> FrontMatter:
    """Split ``text`` into front matter and body; raise FrontMatterError if it cannot be read."""
    if not text.strip():
        raise FrontMatterError([
            Problem(path, 1, "file", "is empty.", "Start it with a front matter block: '---', 'type: ...', 'title: ...', '---'.")
        ])
    lines = text.split("\n")
    if not DELIMITER.match(lines[0]):
        raise FrontMatterError([
            Problem(path, 1, "front matter", "is missing: the file does not start with '---'.",
                    "Add a front matter block at the top: '---', 'type: ...', 'title: ...', '---'.")
        ])
    closing = next((i for i in range(1, len(lines)) if DELIMITER.match(lines[i])), None)
    if closing is None:
        raise FrontMatterError([
            Problem(path, 1, "front matter", "no closing '---'.", "Add a line '---' after the last field.")
        ])
    handler = LineKeepingYAMLHandler(path, line_offset=1)
    # The opening delimiter is on line 1 and python-frontmatter hands over the block starting
    # with the newline that ends it, so a YAML line n (0-based) is file line n + 1.
    metadata, body = frontmatter.parse(text, handler=handler)
    if handler.problems:
        raise FrontMatterError(handler.problems)
    if not metadata:
        raise FrontMatterError([
            Problem(path, 1, "front matter", "is empty.", "Add at least 'type: ...' and 'title: ...' between the '---' lines.")
        ])
    return FrontMatter(values=dict(metadata), lines=handler.lines, body=body, body_line=closing + 2)
