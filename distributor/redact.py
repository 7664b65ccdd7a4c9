"""Scrubbing secrets out of text: known values plus token patterns.

`register()` is called for every `Secret`; `scrub()` replaces them and well-known token shapes
(Telegram bot tokens, Bearer/OAuth headers, access_token parameters, webhook secrets) with `***`.
`RedactingFilter` applies it to log records on handlers, so third-party loggers are covered too.
"""

from __future__ import annotations

import logging
import re
import threading

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None

# Shapes of secrets that may reach us before (or without) being registered.
TOKEN_PATTERNS = (
    r"(?<![0-9])\d{6,12}:[A-Za-z0-9_-]{30,}",  # Telegram bot token (also inside /bot<token>/ URLs)
    r"(?<=[Bb]earer )[A-Za-z0-9._~+/=-]{8,}",
    r"(?<=access_token=)[^&\s\"']+",
    r"(?<=oauth_signature=\")[^\"]+",
    r"(?<=oauth_token=\")[^\"]+",
    r"whsec_[A-Za-z0-9+/=]{8,}",
)
MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words


def register(value: str) -> None:
    """Remember a secret value (and its stripped form) so that `scrub` removes it."""
    global _pattern
    candidates = {value, value.strip()}
    new = {v for v in candidates if len(v) >= MIN_SECRET_LENGTH} - _values
    if not new:
        return
    with _lock:
        _values.update(new)
        _pattern = None


def _compiled() -> re.Pattern[str]:
    global _pattern
    pattern = _pattern
    if pattern is None:
        with _lock:
            literals = sorted(_values, key=len, reverse=True)
            parts = [re.escape(v) for v in literals] + list(TOKEN_PATTERNS)
            pattern = _pattern = re.compile("|".join(parts))
    return pattern


def scrub(text: str) -> str:
    """Return `text` with every registered secret and token pattern replaced by `***`."""
    if not text:
        return text
    return _compiled().sub(MASK, text)


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
