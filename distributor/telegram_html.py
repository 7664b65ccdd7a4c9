"""Telegram's HTML parse mode, validated the way the Bot API validates it.

`parse(html)` follows the Bot API's parser (tdlib `parse_html`): the supported tags are b/strong,
i/em, u/ins, s/strike/del, span class="tg-spoiler", tg-spoiler, a href, code, pre, blockquote
[expandable] and tg-emoji; `&lt; &gt; &amp; &quot;` and numeric entities are decoded, any other
`&...;` stays literal text (as Telegram shows it). Unknown, unbalanced or malformed tags raise
`TelegramHTMLError` carrying Telegram's own description ("Bad Request: can't parse entities:
... at byte offset N"), so the sandbox answers exactly what the real API would, and rendering can
reject a template before anything is sent.

`visible_length(html)` is the length Telegram checks against 4096 (text) and 1024 (caption): the
visible text after entity parsing, counted in UTF-16 code units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = " \t\r\n\f\v"
PREFIX = "Bad Request: can't parse entities: "


class TelegramHTMLError(ValueError):
    """Text Telegram would refuse; `str()` is the Bot API's description, `offset` in UTF-8 bytes."""

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(PREFIX + reason)

    @property
    def description(self) -> str:
        return str(self)


@dataclass(frozen=True, slots=True)
class Entity:
    """A formatting entity as Telegram reports it (offsets and lengths in UTF-16 units)."""

    tag: str
    offset: int
    length: int
    argument: str = ""


@dataclass(slots=True)
class Parsed:
    """The visible text and its entities."""

    text: str
    entities: list[Entity] = field(default_factory=list)

    @property
    def length(self) -> int:
        return utf16_length(self.text)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units (characters outside the BMP count twice)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def visible_length(html_text: str) -> int:
    """Telegram's length of HTML text: visible characters in UTF-16 units (raises if invalid)."""
    return parse(html_text).length


def validate(html_text: str) -> None:
    """Raise `TelegramHTMLError` when Telegram would refuse this HTML."""
    parse(html_text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.src = text + "\0"  # a sentinel, like tdlib's NUL-terminated buffer
        self.i = 0
        self.out: list[str] = []
        self.out_len = 0  # UTF-16 units written so far
        self.stack: list[tuple[str, int, str]] = []  # tag, UTF-16 start, argument
        self.entities: list[Entity] = []

    def byte_offset(self, pos: int) -> int:
        return len(self.src[:pos].encode("utf-8", "surrogatepass"))

    def emit(self, chars: str) -> None:
        self.out.append(chars)
        self.out_len += utf16_length(chars)

    def run(self) -> Parsed:
        src = self.src
        while self.i < len(src) - 1:
            ch = src[self.i]
            if ch == "&":
                self.entity()
            elif ch == "<":
                self.tag()
            else:  # plain text up to the next entity or tag, in one piece
                end = len(src) - 1
                for special in ("&", "<"):
                    found = src.find(special, self.i, end)
                    end = found if found >= 0 else end
                self.emit(src[self.i : end])
                self.i = end
        if self.stack:
            raise TelegramHTMLError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        return Parsed("".join(self.out), sorted(self.entities, key=lambda e: e.offset))

    def entity(self) -> None:
        decoded, end = decode_entity(self.src, self.i)
        if decoded is None:
            self.emit("&")
            self.i += 1
        else:
            self.emit(decoded)
            self.i = end

    def tag(self) -> None:
        if self.src[self.i + 1] == "/":
            self.end_tag()
        else:
            self.start_tag()

    def start_tag(self) -> None:
        src, begin = self.src, self.i
        at = self.byte_offset(begin)
        i = begin + 1
        while src[i] not in _SPACE and src[i] not in ">\0":
            i += 1
        if src[i] == "\0":
            raise TelegramHTMLError(f"Unclosed start tag at byte offset {at}", at)
        name = src[begin + 1 : i].lower()
        if name not in TAGS:
            raise TelegramHTMLError(f'Unsupported start tag "{name}" at byte offset {at}', at)
        self.i = i
        argument = self.attributes(name, at)
        if name == "span" and argument != "tg-spoiler":
            raise TelegramHTMLError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {at}', at
            )
        self.i += 1  # the '>'
        self.stack.append((name, self.out_len, argument))

    def attributes(self, tag: str, at: int) -> str:
        src, argument = self.src, ""
        while src[self.i] != ">":
            while src[self.i] != "\0" and src[self.i] in _SPACE:
                self.i += 1
            if src[self.i] == ">":
                break
            start = self.i
            while src[self.i] not in _SPACE and src[self.i] not in "=\0>":
                self.i += 1
            attr = src[start : self.i]
            if not attr:
                raise TelegramHTMLError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {at}', at
                )
            while src[self.i] != "\0" and src[self.i] in _SPACE:
                self.i += 1
            if src[self.i] != "=":
                if tag == "blockquote" and attr == "expandable":
                    continue
                raise TelegramHTMLError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {at}",
                    at,
                )
            self.i += 1
            while src[self.i] != "\0" and src[self.i] in _SPACE:
                self.i += 1
            if src[self.i] == "\0":
                raise TelegramHTMLError(f'Unclosed start tag "{tag}" at byte offset {at}', at)
            value = self.attribute_value()
            if src[self.i] == "\0":
                raise TelegramHTMLError(f"Unclosed start tag at byte offset {at}", at)
            if (tag, attr) in (("a", "href"), ("span", "class"), ("tg-emoji", "emoji-id")) or (
                tag == "code" and attr == "class" and value.startswith("language-")
            ):
                argument = value
        return argument

    def attribute_value(self) -> str:
        src = self.src
        if src[self.i] not in "'\"":
            # an unquoted name token: letters, digits, '.', '-' (case-insensitive)
            start = self.i
            while src[self.i].isalnum() or src[self.i] in ".-":
                self.i += 1
            if src[self.i] not in _SPACE and src[self.i] != ">":
                at = self.byte_offset(start)
                raise TelegramHTMLError(f"Unexpected end of name token at byte offset {at}", at)
            return src[start : self.i].lower()
        quote = src[self.i]
        self.i += 1
        value: list[str] = []
        while src[self.i] != quote and src[self.i] != "\0":
            if src[self.i] == "&":
                decoded, end = decode_entity(src, self.i)
                if decoded is not None:
                    value.append(decoded)
                    self.i = end
                    continue
            value.append(src[self.i])
            self.i += 1
        if src[self.i] == quote:
            self.i += 1
        return "".join(value)

    def end_tag(self) -> None:
        src, begin = self.src, self.i
        at = self.byte_offset(begin)
        if not self.stack:
            raise TelegramHTMLError(f"Unexpected end tag at byte offset {at}", at)
        i = begin + 2
        while src[i] not in _SPACE and src[i] not in ">\0":
            i += 1
        end_name = src[begin + 2 : i].lower()
        while src[i] != "\0" and src[i] in _SPACE:
            i += 1
        if src[i] != ">":
            raise TelegramHTMLError(f"Unclosed end tag at byte offset {at}", at)
        name, start, argument = self.stack.pop()
        if end_name and end_name != name:
            raise TelegramHTMLError(
                f'Unmatched end tag at byte offset {at}, expected "</{name}>", '
                f'found "</{end_name}>"',
                at,
            )
        if self.out_len > start:
            self.entities.append(Entity(name, start, self.out_len - start, argument))
        self.i = i + 1


def decode_entity(src: str, pos: int) -> tuple[str | None, int]:
    """Decode `&name;` / `&#N;` / `&#xH;` at `pos`; (None, pos) when Telegram keeps it literal."""
    end = src.find(";", pos + 1, pos + 12)
    if end < 0:
        return None, pos
    body = src[pos + 1 : end]
    if body in _NAMED:
        return _NAMED[body], end + 1
    if body.startswith("#") and len(body) > 1:
        digits, base = (body[2:], 16) if body[1] in "xX" else (body[1:], 10)
        try:
            code = int(digits, base) if digits else -1
        except ValueError:
            return None, pos
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code), end + 1
    return None, pos


def parse(html_text: str) -> Parsed:
    """Parse Telegram HTML into visible text and entities, or raise `TelegramHTMLError`."""
    return _Parser(html_text).run()


def to_plain(html_text: str) -> str:
    """The visible text (for logs, previews and platforms that need plain text)."""
    return parse(html_text).text
