"""review.yaml's bytes to a plain tree, safely: refused unopened when not a small regular file, UTF-8 only, no YAML objects.

Nothing here knows the form. The file is stat-ed without following links and refused, unopened,
if it is not a regular file or is over `MAX_BYTES`; it is opened non-blocking and never through
a link, and read no further than `MAX_BYTES`. YAML is read as ruamel.yaml's round-trip parser
events only, into `YamlNode`s: no Python object is ever constructed, and anchors, aliases and
tags are refused as they are met, before anything could expand.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    DocumentStartEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
)
from ruamel.yaml.reader import ReaderError

from pipeline.rules import review_spelling as spell
from pipeline.rules.review_spelling import MAX_PROBLEMS, ReviewProblem

MAX_BYTES = 1_000_000  # a review.yaml is a few KB; anything this big is not one
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# A review.yaml nests four deep at most (items: 2-1-2: evidence: {seal: present}). Deeper is
# refused: ruamel's scanner looks ahead over every open [ or { and checks each on every token
# (300,000 nested [ take hours), so flow nesting is refused before the parser sees the text,
# and block nesting (`- - - …`) as the parser reaches it.
MAX_DEPTH = 10
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")
# What can open or close a flow collection, with comments and quoted text skipped.
_FLOW_TOKENS = re.compile(r"""(?m)(?:(?<=[\s\[{,])|^)(?:#[^\n]*|'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")|[\[\]{}]""")


def _file_problem(code: str, **fields: object) -> ReviewProblem:
    return ReviewProblem(code, spell.message(code, **fields))


def read_bytes(path: Path) -> tuple[bytes | None, ReviewProblem | None]:
    """The file's bytes; (None, None) if absent. Never follows a link, never opens a FIFO."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, _unreadable(exc)
    if (problem := _kind_problem(info)) is not None:
        return None, problem
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        return None, _unreadable(exc)
    try:
        # Checked again on the open file: it may have been swapped since the lstat.
        if (problem := _kind_problem(os.fstat(fd))) is not None:
            return None, problem
        chunks, size = [], 0
        while size <= MAX_BYTES and (chunk := os.read(fd, 65536)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        return None, _unreadable(exc)
    finally:
        os.close(fd)
    if size > MAX_BYTES:
        return None, _file_problem("too_large", size=size, limit=MAX_BYTES)
    return b"".join(chunks), None


def _kind_problem(info: os.stat_result) -> ReviewProblem | None:
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        return _file_problem("is_symlink")
    if stat.S_ISDIR(mode):
        return _file_problem("is_directory")
    if not stat.S_ISREG(mode):
        what = "名前付きパイプ（FIFO）" if stat.S_ISFIFO(mode) else "ソケット" if stat.S_ISSOCK(mode) else "デバイス"
        return _file_problem("not_a_file", what=what)
    if info.st_size > MAX_BYTES:
        return _file_problem("too_large", size=info.st_size, limit=MAX_BYTES)
    return None


def _unreadable(exc: OSError) -> ReviewProblem:
    if exc.errno in (errno.EACCES, errno.EPERM):
        reason = "読み取りの権限がありません"
    elif exc.errno == errno.ELOOP:
        return _file_problem("is_symlink")
    else:
        reason = f"エラー {errno.errorcode.get(exc.errno or 0, exc.errno)}"
    return _file_problem("unreadable", reason=reason)


def decode(data: bytes) -> tuple[str, ReviewProblem | None]:
    """UTF-8 text (a BOM dropped); a problem naming the encoding it seems to be otherwise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "", _file_problem("utf16")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
    if _looks_like_shift_jis(data):
        return "", _file_problem("shift_jis")
    return "", ReviewProblem("not_utf8", spell.message("not_utf8"), bad_line)


def _looks_like_shift_jis(data: bytes) -> bool:
    """True if the bytes read as cp932 Japanese text (kana or kanji, no private-use fillers); only to word the advice."""
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError:
        return False
    return _JAPANESE.search(text) is not None and _PRIVATE_USE.search(text) is None


@dataclass(slots=True)
class YamlNode:
    kind: Literal["scalar", "map", "seq"]
    line: int  # 1-based, in the reviewer's file
    column: int
    text: str = ""
    quoted: bool = False
    children: list[YamlNode] = field(default_factory=list)  # a map's keys and values, alternating

    @property
    def null(self) -> bool:
        return self.kind == "scalar" and not self.quoted and self.text.strip() in _NULLS

    @property
    def blank(self) -> bool:
        """Nothing in it: null, `{}` or `[]`."""
        return self.null or (self.kind != "scalar" and not self.children)

    def pairs(self) -> Iterator[tuple[YamlNode, YamlNode]]:
        return zip(self.children[::2], self.children[1::2])

    def shape(self) -> str:
        """What was written, in words, for a message."""
        if self.null:
            return "空"
        if self.kind == "map":
            return "「見出し: 値」の形"
        if self.kind == "seq":
            return "[ ] の並び"
        return f"値 {spell.shown(self.text)}"


def parse_tree(text: str, inserted: dict[int, list[int]], problems: list[ReviewProblem]) -> YamlNode | None:
    """The document as a plain tree; syntax, anchors, aliases and tags go to `problems` instead."""
    roots: list[YamlNode] = []
    stack: list[YamlNode] = []
    documents = 0
    refused: set[str] = set()  # anchors and aliases are reported once: a billion-laughs file has thousands

    def add(code: str, line0: int, column0: int, **fields: object) -> None:
        column = spell.original_column(inserted, line0, column0)
        problems.append(ReviewProblem(code, spell.message(code, **fields), line0 + 1, column))

    if (deep := _too_deep(text)) is not None:
        add("too_deep", *deep, limit=MAX_DEPTH)
        return None
    try:
        for event in YAML(typ="rt").parse(text):
            line0, column0 = event.start_mark.line, event.start_mark.column
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents == 2:
                    add("multiple_documents", line0, column0)
                continue
            if isinstance(event, CollectionEndEvent):
                stack.pop()
                continue
            if not isinstance(event, ScalarEvent | MappingStartEvent | SequenceStartEvent | AliasEvent):
                continue
            anchor = getattr(event, "anchor", None)
            if isinstance(event, AliasEvent) and "alias" not in refused:
                refused.add("alias")
                add("alias", line0, column0, name=anchor or "")
            elif anchor and "anchor" not in refused:
                refused.add("anchor")
                add("anchor", line0, column0, name=anchor)
            if getattr(event, "tag", None) is not None:
                add("tag", line0, column0, tag=str(event.tag).replace("tag:yaml.org,2002:", "!!"))
                if len(problems) > MAX_PROBLEMS:
                    break
            node = _node(event, line0 + 1, spell.original_column(inserted, line0, column0))
            siblings = stack[-1].children if stack else roots
            if node.null and not node.text and stack and stack[-1].kind == "map" and len(siblings) % 2:
                # `7-1-2:` with nothing after: the parser marks the empty value where the next line starts
                node.line, node.column = siblings[-1].line, siblings[-1].column
            siblings.append(node)
            if isinstance(event, MappingStartEvent | SequenceStartEvent):
                stack.append(node)
                if len(stack) > MAX_DEPTH:
                    add("too_deep", line0, column0, limit=MAX_DEPTH)
                    return None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        add("yaml_syntax", mark.line if mark else 0, mark.column if mark else 0, detail=spell.syntax_detail(str(exc.problem or "")))
    except ReaderError as exc:
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        line0 = text.count("\n", 0, exc.position)
        add("control_char", line0, exc.position - (text.rfind("\n", 0, exc.position) + 1), char=f"U+{char:04X}")
    except YAMLError as exc:
        add("yaml_syntax", 0, 0, detail=spell.syntax_detail(str(exc)))
    return roots[0] if roots else None


def _too_deep(text: str) -> tuple[int, int] | None:
    """The 0-based line and column where [ { nesting first passes MAX_DEPTH, or None."""
    depth = 0
    for found in _FLOW_TOKENS.finditer(text):
        token = found.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                start = found.start()
                return text.count("\n", 0, start), start - (text.rfind("\n", 0, start) + 1)
        elif token in ("]", "}"):
            depth = max(depth - 1, 0)
    return None


def _node(event: Any, line: int, column: int) -> YamlNode:
    if isinstance(event, MappingStartEvent):
        return YamlNode("map", line, column)
    if isinstance(event, SequenceStartEvent):
        return YamlNode("seq", line, column)
    if isinstance(event, ScalarEvent):
        return YamlNode("scalar", line, column, text=str(event.value), quoted=event.style is not None)
    return YamlNode("scalar", line, column)  # an alias, already refused
