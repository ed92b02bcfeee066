"""YAML with positions: nodes with line and column, read one step at a time.

The one reader of YAML files with positions: scenario files and the network file both go
through :class:`Reader`, so both report ``file:line:column`` in the same words.

PyYAML's ``compose()`` builds the whole node tree; a 100,000-alert scenario would then sit in
memory several times over. Here the parser's events (libyaml when present) are composed into
nodes one top-level value at a time, and the ``steps`` list one step at a time, so reading a
file of any length holds only the step in hand. Every node keeps its marks, so each problem
is reported as ``file:line:column``. Readers collect problems instead of stopping at the first.

YAML 1.1 (what PyYAML reads) has traps a reader of the file would not expect; they are
refused with a reason rather than read as something else: ``017`` (octal, 15), ``1:30``
(base 60, 90), ``.inf``/``.nan`` as numbers, a merge key (``<<:``) with a plain value, and a
top-level key given twice. A file that is not UTF-8 is refused at its first bad byte.
"""

from __future__ import annotations

import codecs
import difflib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Final, Literal, TextIO

import yaml

from intelshare.durations import parse_duration
from intelshare.errors import FatalSyntax

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import timedelta
    from pathlib import Path

STR: Final = "tag:yaml.org,2002:str"
INT: Final = "tag:yaml.org,2002:int"
FLOAT: Final = "tag:yaml.org,2002:float"
BOOL: Final = "tag:yaml.org,2002:bool"
NULL: Final = "tag:yaml.org,2002:null"
TIMESTAMP: Final = "tag:yaml.org,2002:timestamp"

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, kw_only=True, slots=True)
class Where:
    """A position in a scenario file, 1-based as editors show it."""

    file: str
    """The file as named on the command line."""
    line: int
    """Line number, from 1 (0: the file as a whole, e.g. one that cannot be opened)."""
    column: int
    """Column number, from 1."""

    def __str__(self) -> str:
        """``file:line:column``, the form editors and terminals link to (``file`` for line 0)."""
        if self.line == 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    """One thing wrong (or worth a warning) in a scenario file."""

    where: Where
    """Where in the file."""
    message: str
    """What is wrong, in one line."""
    severity: Literal["error", "warning"] = "error"
    """Errors stop a replay; warnings are printed and the replay goes on."""

    def __str__(self) -> str:
        """``file:line:column: error: message``, the compiler convention."""
        return f"{self.where}: {self.severity}: {self.message}"


Position = Any
"""A node, an event, a mark (PyYAML's or libyaml's) or a :class:`Where`."""


@dataclass(kw_only=True, slots=True)
class Reader:
    """Reads nodes of one file and collects problems with their positions."""

    source: str
    """The file name used in every position."""
    problems: list[Problem] = field(default_factory=list)
    """Every problem found so far, in file order per pass."""

    def where(self, node: Position) -> Where:
        """The position of a node, event or mark (libyaml's marks have their own type)."""
        if isinstance(node, Where):
            return node
        mark: Any = getattr(node, "start_mark", node)
        return Where(file=self.source, line=int(mark.line) + 1, column=int(mark.column) + 1)

    def error(self, node: Position, message: str) -> None:
        """Record an error at ``node``."""
        self.problems.append(Problem(where=self.where(node), message=message))

    def warn(self, node: Position, message: str) -> None:
        """Record a warning at ``node``."""
        self.problems.append(Problem(where=self.where(node), message=message, severity="warning"))

    @property
    def failed(self) -> bool:
        """Whether any error (not warning) was recorded."""
        return any(p.severity == "error" for p in self.problems)

    # --- shapes -----------------------------------------------------------------------------

    def mapping(
        self, node: yaml.Node, what: str, *, allowed: Iterable[str], required: Iterable[str] = ()
    ) -> dict[str, yaml.Node] | None:
        """A mapping's values by key; unknown, duplicate and missing keys are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping")
            return None
        merged = _flatten(node, self)
        allowed = tuple(allowed)
        found: dict[str, yaml.Node] = {}
        own: set[str] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != STR:
                self.error(key_node, f"a key in {what} must be a name")
                continue
            key = str(key_node.value)
            if index >= merged:
                if key in own:
                    self.error(key_node, f"{what} has {key!r} twice")
                    continue
                own.add(key)
            if key in found:
                # Merged pairs come first: an own key overrides a template's, as in YAML.
                found[key] = value_node
            elif key not in allowed:
                self.error(key_node, f"{what} has unknown field {key!r}{suggest(key, allowed)}")
            else:
                found[key] = value_node
        for key in required:
            if key not in found:
                self.error(node, f"{what} is missing {key!r}")
        return found

    def unique_keys(self, node: yaml.Node, what: str) -> None:
        """Report each key a mapping (not one merged into it) repeats; anything else passes."""
        if not isinstance(node, yaml.MappingNode):
            return
        seen: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE:
                continue
            key = str(key_node.value)
            if key in seen:
                line = self.where(seen[key]).line
                self.error(key_node, f"{what} has {key!r} twice (first at line {line})")
            else:
                seen[key] = key_node

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        """A list's items; a single scalar counts as a list of one (``to: GB``)."""
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if isinstance(node, yaml.ScalarNode) and node.tag != NULL:
            return [node]
        self.error(node, f"{what} must be a list")
        return []

    def string(self, node: yaml.Node, what: str) -> str | None:
        """A non-empty string (numbers and dates as written are accepted as text)."""
        if not isinstance(node, yaml.ScalarNode) or node.tag in (NULL, BOOL):
            self.error(node, f"{what} must be text")
            return None
        text = str(node.value)
        if not text.strip():
            self.error(node, f"{what} must not be empty")
            return None
        return text

    def integer(self, node: yaml.Node, what: str) -> int | None:
        """A whole number, written in decimal (or ``0x``/``0b``); YAML 1.1 traps are refused."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != INT:
            self.error(node, f"{what} must be a whole number")
            return None
        text = str(node.value)
        trap = _yaml11_trap(text)
        if trap is not None:
            self.error(node, f"{what}: {trap}")
            return None
        try:
            return int(text.replace("_", ""), 0)
        except ValueError:
            self.error(node, f"{what} {text!r} is not a whole number")
            return None

    def number(self, node: yaml.Node, what: str) -> float | None:
        """A finite number, whole or not."""
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (INT, FLOAT):
            self.error(node, f"{what} must be a number")
            return None
        text = str(node.value)
        trap = _yaml11_trap(text)
        if trap is None and node.tag == FLOAT and not _FINITE.match(text.replace("_", "")):
            trap = f"{text!r} is not a finite number"
        if trap is not None:
            self.error(node, f"{what}: {trap}")
            return None
        try:
            return float(text.replace("_", "")) if node.tag == FLOAT else float(int(text, 0))
        except ValueError:
            self.error(node, f"{what} {text!r} is not a number")
            return None

    def duration(self, node: yaml.Node, what: str) -> timedelta | None:
        """A duration as people write them (``90s``, ``1h30m``; see :mod:`intelshare.durations`)."""
        text = self.string(node, what)
        if text is None:
            return None
        try:
            return parse_duration(text)
        except ValueError as error:
            self.error(node, f"{what}: {error}")
            return None

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        """``true`` or ``false``."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != BOOL:
            self.error(node, f"{what} must be true or false")
            return None
        return str(node.value).lower() in ("true", "yes", "on")

    def symbol(self, node: yaml.Node, what: str, symbols: Iterable[str]) -> str | None:
        """One symbol of an enum, by name."""
        text = self.string(node, what)
        if text is None:
            return None
        symbols = tuple(symbols)
        if text not in symbols:
            self.error(node, f"{what} {text!r} is not one of {', '.join(symbols)}")
            return None
        return text


def suggest(word: str, choices: Iterable[str]) -> str:
    """``; did you mean 'x'?`` when a close match exists, else the allowed choices."""
    choices = sorted(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of {', '.join(choices)}"


_MERGE: Final = "tag:yaml.org,2002:merge"
_FINITE: Final = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_SEXAGESIMAL: Final = re.compile(r"^[-+]?\d+(?::[0-5]?\d)+(?:\.\d*)?$")
_OCTAL: Final = re.compile(r"^[-+]?0[0-7_]+$")


def _yaml11_trap(text: str) -> str | None:
    """Why a number that YAML 1.1 reads unlike it looks is refused; None when it is fine."""
    if _SEXAGESIMAL.match(text):
        return (
            f"{text!r} is a YAML 1.1 base-60 number, not a time or a ratio; "
            "write a plain number (or quote it to mean text)"
        )
    if _OCTAL.match(text):
        return (
            f"{text!r} has a leading zero, which YAML 1.1 reads as octal "
            f"({int(text.replace('_', ''), 8)}); write the number without it"
        )
    return None


def _flatten(node: yaml.MappingNode, reader: Reader) -> int:
    """Resolve merge keys (``<<: *template``) in place; how many pairs came from templates.

    A merge key whose value is not a mapping (or a list of them) is a problem: its pairs
    are dropped, the rest of the mapping is read as if it were not there.
    """
    if not any(k.tag == _MERGE for k, _ in node.value):
        return 0
    own = sum(1 for k, _ in node.value if k.tag != _MERGE)
    try:
        # The constructor owns the merge rules (lists of templates, nested merges).
        yaml.constructor.SafeConstructor().flatten_mapping(node)
    except yaml.constructor.ConstructorError as error:
        reader.error(
            error.problem_mark or node,
            "a merge key (<<) takes a mapping or a list of mappings, e.g. <<: *template",
        )
        node.value = [(k, v) for k, v in node.value if k.tag != _MERGE]
        return 0
    return len(node.value) - own


# --- streaming composition -------------------------------------------------------------------


MAX_DEPTH: Final = 100
"""How deeply lists and mappings may nest (a scenario needs about six levels)."""
_TAGS_REMEMBERED: Final = 4096
_SCALAR: Final = yaml.ScalarEvent
_ALIAS: Final = yaml.AliasEvent
_SEQUENCE: Final = yaml.SequenceStartEvent
_MAPPING: Final = yaml.MappingStartEvent
_SEQUENCE_END: Final = yaml.SequenceEndEvent
_MAPPING_END: Final = yaml.MappingEndEvent


class _Composer:
    """Composes nodes from parser events, keeping anchors for later aliases.

    Events and marks are typed ``Any``: libyaml's marks are not PyYAML's ``Mark`` class.
    Composing is most of a long scenario's check, so the parser's methods are bound once and
    plain scalars' tags are remembered by value (a scenario repeats its codes and symbols).
    """

    def __init__(self, stream: TextIO) -> None:
        self.loader = _Loader(stream)
        self.event: Callable[[], Any] = self.loader.get_event
        """The next event, taken."""
        self.peek: Callable[[], Any] = self.loader.peek_event
        """The next event, left in place."""
        self.anchors: dict[str, yaml.Node] = {}
        self.depth = 0
        self._tags: dict[tuple[str, Any], str] = {}

    def node(self) -> yaml.Node:
        """The node the next events make up (an alias: the anchored node)."""
        event = self.event()
        start: Any = event.start_mark
        kind = type(event)
        node: yaml.Node
        if kind is _SCALAR:
            tag = event.tag
            if tag is None or tag == "!":
                tag = self._scalar_tag(event.value, event.implicit)
            node = yaml.ScalarNode(tag, event.value, start, start, event.style)
        elif kind is _ALIAS:
            if event.anchor not in self.anchors:
                raise yaml.composer.ComposerError(
                    None, None, f"unknown alias *{event.anchor}", start
                )
            return self.anchors[event.anchor]
        elif kind is _SEQUENCE or kind is _MAPPING:
            node = self._collection(event, start)
        else:  # pragma: no cover - the parser only yields these inside a document
            raise yaml.composer.ComposerError(None, None, "unexpected YAML", start)
        if event.anchor:
            self.anchors[event.anchor] = node
        return node

    def _collection(self, event: Any, start: Any) -> yaml.Node:  # noqa: ANN401 - see the class
        if self.depth >= MAX_DEPTH:
            # Composing recurses; Python's stack would give out before libyaml's own limit.
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", start
            )
        self.depth += 1
        peek = self.peek
        node: yaml.Node
        if type(event) is _SEQUENCE:
            tag = event.tag or self.loader.resolve(yaml.SequenceNode, None, event.implicit)
            node = yaml.SequenceNode(tag, [], start, None)
            while type(peek()) is not _SEQUENCE_END:
                node.value.append(self.node())
        else:
            tag = event.tag or self.loader.resolve(yaml.MappingNode, None, event.implicit)
            node = yaml.MappingNode(tag, [], start, None)
            while type(peek()) is not _MAPPING_END:
                key = self.node()
                node.value.append((key, self.node()))
        node.end_mark = self.event().end_mark
        self.depth -= 1
        return node

    def _scalar_tag(self, value: str, implicit: Any) -> str:  # noqa: ANN401 - libyaml's pair
        key = (value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self.loader.resolve(yaml.ScalarNode, value, implicit)
            if len(self._tags) >= _TAGS_REMEMBERED:
                self._tags.clear()  # names and summaries do not repeat; codes come back
            self._tags[key] = tag
        return tag

    def skip(self) -> None:
        """Consume one node's events without building it."""
        self.skip_from(self.event())

    def skip_from(self, event: Any) -> None:  # noqa: ANN401 - see the class docstring
        """Consume the rest of the node that ``event`` (already taken) starts."""
        depth = 0
        while True:
            kind = type(event)
            if kind is _SEQUENCE or kind is _MAPPING:
                depth += 1
            elif kind is _SEQUENCE_END or kind is _MAPPING_END:
                depth -= 1
            if depth == 0:
                return
            event = self.event()


@dataclass(frozen=True, kw_only=True, slots=True)
class TopLevel:
    """The top-level keys of a scenario file, with ``steps`` left unread."""

    root: yaml.Node
    """The top-level mapping (its pairs hold every key except the steps list)."""
    keys: dict[str, tuple[yaml.Node, yaml.Node | None]]
    """Key node and value node by key; the ``steps`` value is None (read with iter_steps)."""


_CHUNK: Final = 1 << 20
_NON_PRINTABLE: Final = yaml.reader.Reader.NON_PRINTABLE


def _advance(line: int, column: int, text: str) -> tuple[int, int]:
    """The position just after ``text`` when it starts at ``line``, ``column``."""
    breaks = text.count("\n")
    if breaks:
        return line + breaks, len(text) - text.rfind("\n")
    return line, column + len(text)


def _check_text(raw: BinaryIO, reader: Reader) -> bool:
    """Whether the bytes are UTF-8 text YAML may hold; if not, a problem at the first bad one.

    The YAML parser would stop on such a byte with a position in a buffer, not in the file;
    one cheap pass first gives the reader the line and column to look at.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, column = 1, 1
    while True:
        chunk = raw.read(_CHUNK)
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            data = bytes(error.object)
            good = data[: error.start].decode("utf-8", errors="replace")
            line, column = _advance(line, column, good)
            byte = data[error.start : error.start + 1].hex().upper()
            reader.error(
                Where(file=reader.source, line=line, column=column),
                f"the file is not UTF-8 text (byte 0x{byte}); save it as UTF-8",
            )
            return False
        bad = _NON_PRINTABLE.search(text)
        if bad is not None:
            line, column = _advance(line, column, text[: bad.start()])
            reader.error(
                Where(file=reader.source, line=line, column=column),
                f"character U+{ord(bad.group()):04X} is not allowed in YAML "
                "(a binary file, or a control character)",
            )
            return False
        line, column = _advance(line, column, text)
        if not chunk:
            return True


def _open(path: Path, reader: Reader) -> TextIO | None:
    try:
        with path.open("rb") as raw:
            if not _check_text(raw, reader):
                return None
        # utf-8-sig: a byte-order mark some editors write is not part of the text.
        return path.open(encoding="utf-8-sig")
    except OSError as error:
        reason = error.strerror or str(error)
        reader.problems.append(
            Problem(
                where=Where(file=reader.source, line=0, column=0), message=f"cannot read: {reason}"
            )
        )
        return None


def _syntax(reader: Reader, error: yaml.YAMLError) -> FatalSyntax:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        # libyaml reports its position on the character after the problem; close enough.
        reader.error(error.problem_mark, f"not valid YAML: {error.problem}")
    else:
        reader.error(Where(file=reader.source, line=1, column=1), f"not valid YAML: {error}")
    return FatalSyntax(str(error))


def _repeated(reader: Reader, key: yaml.Node, first: yaml.Node, *, report: bool) -> None:
    """A top-level key given again: YAML would keep the last silently, dropping a block."""
    if report:
        line = reader.where(first).line
        reader.error(key, f"{key.value!r} is given twice (first at line {line})")


def _walk(
    path: Path,
    reader: Reader,
    on_steps: Callable[[_Composer], Iterator[yaml.Node]] | None,
    *,
    first_pass: bool,
) -> Iterator[TopLevel | yaml.Node]:
    """Compose the top level; the steps list goes to ``on_steps`` (or is skipped).

    File-level problems are recorded on the ``first_pass`` only (a file is read twice).
    """
    stream = _open(path, reader)
    if stream is None:
        raise FatalSyntax(str(path))
    with stream:
        composer = _Composer(stream)
        try:
            composer.event()  # stream start
            if isinstance(composer.peek(), yaml.StreamEndEvent):
                reader.error(Where(file=reader.source, line=1, column=1), "empty scenario file")
                raise FatalSyntax("empty")
            composer.event()  # document start
            start = composer.peek()
            if not isinstance(start, yaml.MappingStartEvent):
                node = composer.node()
                reader.error(node, "a scenario file must be a mapping (name, steps, expect, ...)")
                raise FatalSyntax("not a mapping")
            composer.event()
            mark: Any = start.start_mark
            root = yaml.MappingNode("tag:yaml.org,2002:map", [], mark, None)
            keys: dict[str, tuple[yaml.Node, yaml.Node | None]] = {}
            while not isinstance(composer.peek(), yaml.MappingEndEvent):
                key = composer.node()
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else ""
                if name in keys:
                    _repeated(reader, key, keys[name][0], report=first_pass)
                    composer.skip()
                elif name == "steps":
                    keys["steps"] = (key, None)
                    if on_steps is None:
                        composer.skip()
                    else:
                        yield from on_steps(composer)
                else:
                    value = composer.node()
                    root.value.append((key, value))
                    keys[name] = (key, value)
            yield TopLevel(root=root, keys=keys)
        except yaml.YAMLError as error:
            raise _syntax(reader, error) from error
        except UnicodeDecodeError as error:  # the file changed since _check_text read it
            reader.error(Where(file=reader.source, line=0, column=0), f"not UTF-8: {error}")
            raise FatalSyntax(str(error)) from error


REFERENCE_KEYS: Final = frozenset(
    {"update", "revoke", "receipt", "consent_request", "share_onward", "related"}
)
"""Step keys whose values name earlier alerts."""


def _scan_step(composer: _Composer, found: set[str]) -> bool:
    """Add the names one step mapping refers to; False when an alias could hide one."""
    exact = True
    while not isinstance(composer.peek(), yaml.MappingEndEvent):
        key = composer.event()
        value = composer.event()
        exact = exact and not isinstance(value, yaml.AliasEvent)
        name = key.value if isinstance(key, yaml.ScalarEvent) else None
        composer.skip_from(key)
        if name in REFERENCE_KEYS and isinstance(value, yaml.ScalarEvent):
            found.add(value.value)
        elif name == "related" and isinstance(value, yaml.SequenceStartEvent):
            while isinstance(composer.peek(), yaml.ScalarEvent):
                found.add(composer.event().value)
        composer.skip_from(value)
    composer.event()
    return exact


def read_top_level(path: Path, reader: Reader) -> tuple[TopLevel, frozenset[str] | None]:
    """The top-level keys and values, and every alert name a step refers to.

    The steps are not built into nodes: one pass over the parser's events finds the names
    that update, revoke, receipt, consent, onward and related steps refer to. The names are
    None when steps use aliases (a template could hide a reference).

    Raises:
        FatalSyntax: the file cannot be read or is not valid YAML (recorded in ``reader``).
    """
    found: set[str] = set()
    exact = True

    def steps(composer: _Composer) -> Iterator[yaml.Node]:
        nonlocal exact
        if not isinstance(composer.peek(), yaml.SequenceStartEvent):
            composer.skip()
            return
        composer.event()
        while not isinstance(composer.peek(), yaml.SequenceEndEvent):
            event = composer.event()
            if isinstance(event, yaml.MappingStartEvent):
                exact = _scan_step(composer, found) and exact
            else:
                exact = exact and not isinstance(event, yaml.AliasEvent)
                composer.skip_from(event)
        composer.event()
        yield from ()

    for item in _walk(path, reader, steps, first_pass=True):
        if isinstance(item, TopLevel):
            return item, frozenset(found) if exact else None
    raise FatalSyntax("no top level")  # pragma: no cover - _walk always yields it


def iter_step_nodes(path: Path, reader: Reader) -> Iterator[yaml.Node]:
    """The nodes of the ``steps`` list, one at a time, in file order.

    Raises:
        FatalSyntax: the file is not valid YAML (recorded in ``reader``).
    """

    def steps(composer: _Composer) -> Iterator[yaml.Node]:
        event = composer.peek()
        if not isinstance(event, yaml.SequenceStartEvent):
            reader.error(composer.node(), "steps must be a list")
            return
        composer.event()
        while not isinstance(composer.peek(), yaml.SequenceEndEvent):
            yield composer.node()
        composer.event()

    for item in _walk(path, reader, steps, first_pass=False):
        if isinstance(item, yaml.Node):
            yield item


def compose_text(text: str, reader: Reader) -> yaml.Node | None:
    """The node tree of a short YAML document held in ``text`` (None when it is empty).

    For files read whole, such as the network file; scenario files stream instead.

    Raises:
        FatalSyntax: the text is not valid YAML (recorded in ``reader``).
    """
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as error:
        raise _syntax(reader, error) from error
    return node
