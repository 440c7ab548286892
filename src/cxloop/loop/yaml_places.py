"""YAML typed into a page: read it, and say on which line a bad value stands.

The parsers of rule and routing files name a bad value by its path, such as
``rules[0].actions[1].to`` or ``teams[2].members[1]``. :func:`placed` finds that
path in the text the person typed and adds its line, so the page can say "line 7:
rules[0].max_score: 9 is outside 0-6".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from cxloop.domain.errors import InvalidInput

#: The longest YAML text a page accepts, in characters.
MAX_TEXT = 200_000
_PATH = re.compile(r"^([A-Za-z_][\w-]*(?:\[\d+\])*(?:\.[A-Za-z_][\w-]*(?:\[\d+\])*)*):")
_STEP = re.compile(r"([A-Za-z_][\w-]*)|\[(\d+)\]")


class PlacedInput(InvalidInput):
    """A bad value in typed YAML, with its path and line (1-based) where known."""

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


@dataclass(frozen=True)
class PathStyle:
    """How a parser writes paths: list indexes from 0 or 1, and a name for the root.

    ``root`` is the first step of a path that names the whole document (``rule``
    when one rule is parsed on its own), left out when the path is looked up.
    """

    one_based: bool = False
    root: str | None = None


def load_yaml_text(text: str) -> object:
    """The document in ``text``; PlacedInput with the line of a syntax error."""
    if len(text) > MAX_TEXT:
        msg = f"the text is {len(text):,} characters long; the limit is {MAX_TEXT:,}"
        raise InvalidInput(msg)
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        where = f"line {line}, column {mark.column + 1}: " if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "").split())
        raise PlacedInput(f"{where}not valid YAML: {problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise PlacedInput(f"not valid YAML: {' '.join(str(exc).split())}") from None


def placed(error: InvalidInput, text: str, style: PathStyle) -> PlacedInput:
    """``error`` (whose message starts with a path) with the line of that path.

    >>> text = "teams:\\n  - key: a\\n    lead: nobody\\n"
    >>> err = placed(InvalidInput("teams[1].lead: 'nobody' is not an e-mail address"),
    ...              text, PathStyle(one_based=True))
    >>> err.line, str(err)
    (3, "line 3: teams[1].lead: 'nobody' is not an e-mail address")
    """
    message = str(error)
    found = _PATH.match(message)
    if found is None:
        return PlacedInput(message)
    path = found.group(1)
    line = line_of(text, path, style)
    prefix = f"line {line}: " if line is not None else ""
    return PlacedInput(prefix + message, path=path, line=line)


def _steps(path: str, style: PathStyle) -> Iterator[str | int]:
    for number, (name, index) in enumerate(_STEP.findall(path)):
        if number == 0 and name and name == style.root:
            continue
        if name:
            yield name
        else:
            yield int(index) - (1 if style.one_based else 0)


def line_of(text: str, path: str, style: PathStyle) -> int | None:
    """The 1-based line where ``path`` (or the deepest part of it there) is written."""
    try:
        node: Node | None = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for step in _steps(path, style):
        found = _child(node, step)
        if found is None:
            break
        key, node = found
        line = (key or node).start_mark.line + 1
    return line


def _child(node: Node, step: str | int) -> tuple[Node | None, Node] | None:
    if isinstance(node, MappingNode) and isinstance(step, str):
        for key, value in node.value:
            if getattr(key, "value", None) == step:
                return key, value
    if (
        isinstance(node, SequenceNode)
        and isinstance(step, int)
        and 0 <= step < len(node.value)
    ):
        return None, node.value[step]
    return None
