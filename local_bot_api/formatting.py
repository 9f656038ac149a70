"""Telegram text formatting (``parse_mode``): turn marked-up text into plain text + entities.

Lengths and entity offsets are in UTF-16 code units, as Telegram counts them ("1-4096
characters" in the Bot API means UTF-16 code units after entity parsing: an emoji outside the
Basic Multilingual Plane counts as 2).

HTML follows Telegram's rules closely (allowed tags, balanced nesting). MarkdownV2 is a faithful
approximation (reserved characters must be escaped; entities must be closed); legacy Markdown
only strips its markers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = (
    ("```", "pre"),
    ("||", "spoiler"),
    ("__", "underline"),
    ("`", "code"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)
_MD_MARKERS = (("```", "pre"), ("`", "code"), ("*", "bold"), ("_", "italic"))
PARSE_MODES = {"html": "HTML", "markdownv2": "MarkdownV2", "markdown": "Markdown"}


class FormattingError(ValueError):
    """The text cannot be parsed in the given parse mode (Telegram: "can't parse entities")."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, Telegram's unit for text lengths and offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class ParsedText:
    """Plain text plus the entities found in it."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def length(self) -> int:
        """Length in UTF-16 code units."""
        return utf16_len(self.text)


class _Builder:
    """Accumulates plain text and tracks the UTF-16 position."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.pos += utf16_len(text)

    def entity(self, kind: str, start: int, extra: dict[str, Any] | None = None) -> None:
        if self.pos > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.pos - start, **(extra or {})}
            )

    def result(self) -> ParsedText:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.parts), self.entities)


def parse_text(text: str, parse_mode: str | None) -> ParsedText:
    """Parse ``text`` according to ``parse_mode`` (``None``: plain text).

    Raises :class:`FormattingError` for malformed markup or an unknown parse mode.
    """
    if parse_mode is None or parse_mode == "":
        return ParsedText(text)
    mode = PARSE_MODES.get(parse_mode.lower())
    if mode is None:
        raise FormattingError(f"unsupported parse_mode {parse_mode!r}")
    if mode == "HTML":
        return _parse_html(text)
    if mode == "MarkdownV2":
        return _MarkdownParser(text, _MDV2_MARKERS, strict=True).parse()
    return _MarkdownParser(text, _MD_MARKERS, strict=False).parse()


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = _Builder()
        self.stack: list[tuple[str, int, dict[str, Any]]] = []
        self.error: str | None = None

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            self._fail(f'Unsupported start tag "{tag}"')
            return
        attr = dict(attrs)
        if tag == "span" and attr.get("class") != "tg-spoiler":
            self._fail('Unsupported start tag "span" (only class="tg-spoiler")')
        extra: dict[str, Any] = {}
        if tag == "a":
            extra["url"] = attr.get("href") or ""
        if tag == "tg-emoji":
            extra["custom_emoji_id"] = attr.get("emoji-id") or ""
        self.stack.append((tag, self.out.pos, extra))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported self-closing tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            self._fail(f'Unexpected end tag "{tag}"')
            return
        open_tag, start, extra = self.stack.pop()
        if open_tag != tag:
            self._fail(f'Unmatched end tag "{tag}", expected "</{open_tag}>"')
            return
        self.out.entity(_HTML_TAGS[tag], start, extra)

    def handle_data(self, data: str) -> None:
        self.out.add(data)


def _parse_html(text: str) -> ParsedText:
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.error is None and parser.stack:
        parser.error = f'Can\'t find end tag corresponding to start tag "{parser.stack[-1][0]}"'
    if parser.error is not None:
        raise FormattingError(parser.error)
    return parser.out.result()


class _MarkdownParser:
    """A small state machine for MarkdownV2 (strict) and legacy Markdown."""

    def __init__(self, src: str, markers: tuple[tuple[str, str], ...], *, strict: bool) -> None:
        self.src = src
        self.markers = markers
        self.strict = strict
        self.out = _Builder()
        self.stack: list[tuple[str, int, int]] = []  # (marker, plain start, source index)
        self.link_start: int | None = None
        self.i = 0

    def parse(self) -> ParsedText:
        while self.i < len(self.src):
            self._step()
        if self.stack:
            marker, _, where = self.stack[-1]
            raise FormattingError(f"Can't find end of the entity '{marker}' starting at {where}")
        if self.link_start is not None:
            raise FormattingError("Can't find end of a link")
        return self.out.result()

    def _in_code(self) -> bool:
        return bool(self.stack) and self.stack[-1][0] in ("`", "```")

    def _step(self) -> None:
        src, i = self.src, self.i
        char = src[i]
        if char == "\\" and (self.strict or (i + 1 < len(src) and src[i + 1] in "_*`[")):
            if i + 1 >= len(src):
                raise FormattingError("Unexpected end of text after '\\'")
            self.out.add(src[i + 1])
            self.i += 2
            return
        for marker, kind in self.markers:
            if src.startswith(marker, i) and (not self._in_code() or marker == self.stack[-1][0]):
                self._toggle(marker, kind)
                return
        if not self._in_code() and self._link(char):
            return
        if self.strict and not self._in_code() and char in _MDV2_RESERVED:
            if not (char == ">" and (i == 0 or src[i - 1] == "\n")):
                raise FormattingError(
                    f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            self.i += 1
            return
        self.out.add(char)
        self.i += 1

    def _toggle(self, marker: str, kind: str) -> None:
        self.i += len(marker)
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == marker:
                _, start, _ = self.stack.pop(depth)
                self.out.entity(kind, start)
                return
        self.stack.append((marker, self.out.pos, self.i - len(marker)))
        if marker == "```":  # skip the optional language name on the opening line
            end = self.src.find("\n", self.i)
            if end != -1 and " " not in self.src[self.i : end]:
                self.i = end + 1

    def _link(self, char: str) -> bool:
        if char == "[":
            self.link_start = self.out.pos
            self.i += 1
            return True
        if char == "]" and self.link_start is not None:
            close = self.src.find(")", self.i)
            if not self.src.startswith("(", self.i + 1) or close == -1:
                raise FormattingError("Can't find the URL of a link")
            url = self.src[self.i + 2 : close]
            self.out.entity("text_link", self.link_start, {"url": url})
            self.link_start = None
            self.i = close + 1
            return True
        return False
