"""Scrubbing secrets out of text: known values plus token patterns.

`register()` is called for every `Secret`; `scrub()` replaces them and well-known token shapes
(Telegram bot tokens, Bearer/OAuth headers, access_token parameters, webhook secrets) with `***`.
`RedactingFilter` applies it to log records on handlers, so third-party loggers are covered too.
"""

from __future__ import annotations

import logging
import re
import threading

# Shapes of secrets that may reach us before (or without) being registered, each with a plain
# substring every match contains: a line without it skips that pattern's (slow) regex.
TOKEN_RULES = (
    (":", r"(?<![0-9])\d{6,12}:[A-Za-z0-9_-]{30,}"),  # Telegram bot token (also in /bot<token>/)
    ("earer ", r"(?<=[Bb]earer )[A-Za-z0-9._~+/=-]{8,}"),
    ("access_token=", r"(?<=access_token=)[^&\s\"']+"),
    ('oauth_signature="', r"(?<=oauth_signature=\")[^\"]+"),
    ('oauth_token="', r"(?<=oauth_token=\")[^\"]+"),
    ("whsec_", r"whsec_[A-Za-z0-9+/=]{8,}"),
)
TOKEN_PATTERNS = tuple(pattern for _, pattern in TOKEN_RULES)
MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words
PREFIX = 8  # the registered values' prefixes a line is checked for before the full search


class _Scrubber:
    """The registered values and the token shapes, compiled. One regex alternation over every
    value cost ~0.1 ms per log line with a hundred channels' secrets (every position tried
    every value): a line is first checked for pieces of the values (set lookups), and each
    token shape only runs where its fixed part occurs.

    A value of at least `2 * PREFIX - 1` characters (every token and key we are given) holds
    one of its `PREFIX`-character pieces at a line position that is a multiple of `PREFIX`,
    wherever it starts: so for those only every `PREFIX`-th position is looked up, in the set
    of all their pieces. Shorter values are looked for by their first characters at every
    position."""

    def __init__(self, values: set[str]) -> None:
        self.values = sorted(values, key=len, reverse=True)
        long = [v for v in self.values if len(v) >= 2 * PREFIX - 1]
        self.pieces = frozenset(v[i : i + PREFIX] for v in long for i in range(len(v) - PREFIX + 1))
        short = [v for v in self.values if len(v) < 2 * PREFIX - 1]
        self.k = min([PREFIX, *(len(v) for v in short)])
        self.prefixes = frozenset(v[: self.k] for v in short)
        # compiled when first needed: a worker registers each channel's secrets as it builds
        # the channel's adapter, and most lines in between hold none
        self.literals: re.Pattern[str] | None = None
        self.tokens = [(gate, re.compile(p)) for gate, p in TOKEN_RULES]

    def sub(self, text: str) -> str:
        if self.values and self._may_hold_value(text):
            if self.literals is None:
                self.literals = re.compile("|".join(map(re.escape, self.values)))
            text = self.literals.sub(MASK, text)
        for gate, pattern in self.tokens:
            if gate in text:
                text = pattern.sub(MASK, text)
        return text

    def _may_hold_value(self, text: str) -> bool:
        pieces, k, prefixes = self.pieces, self.k, self.prefixes
        if pieces and any(
            text[i : i + PREFIX] in pieces for i in range(0, len(text) - PREFIX + 1, PREFIX)
        ):
            return True
        return bool(prefixes) and any(text[i : i + k] in prefixes for i in range(len(text) - k + 1))


_lock = threading.Lock()
_values: set[str] = set()
_scrubber: _Scrubber | None = None


def register(value: str) -> None:
    """Remember a secret value (and its stripped form) so that `scrub` removes it."""
    global _scrubber
    candidates = {value, value.strip()}
    new = {v for v in candidates if len(v) >= MIN_SECRET_LENGTH} - _values
    if not new:
        return
    with _lock:
        _values.update(new)
        _scrubber = None


def _compiled() -> _Scrubber:
    global _scrubber
    scrubber = _scrubber
    if scrubber is None:
        with _lock:
            scrubber = _scrubber = _Scrubber(set(_values))
    return scrubber


def scrub(text: str) -> str:
    """Return `text` with every registered secret and token pattern replaced by `***`."""
    if not text:
        return text
    return _compiled().sub(text)


class RedactingFilter(logging.Filter):
    """A handler filter that scrubs the fully formatted message and any exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
