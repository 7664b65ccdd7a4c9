"""One logging setup for every command: console lines for people, JSON lines for machines.

The redaction filter sits on the handler, so records from third-party loggers (tweepy logs
Authorization headers at DEBUG; urllib3 logs URLs that carry Telegram bot tokens) are scrubbed
too. Noisy third-party loggers default to WARNING even when ours run at DEBUG.

Delivery context travels as `extra={"ctx": {...}}` (delivery_id, article_id, channel, platform,
attempt, state, remote id/url) and is printed as key=value pairs or JSON fields.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from distributor.redact import RedactingFilter, scrub

NOISY = (
    "urllib3",
    "requests",
    "requests_oauthlib",
    "oauthlib",
    "tweepy",
    "httpx",
    "httpcore",
    "facebook",
    "asyncio",
    "uvicorn.access",
    "multipart",
    "charset_normalizer",
    "apprise",
)
_HANDLER_FLAG = "_distributor_handler"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(getattr(record, "ctx", None) or {})
        if record.exc_text or record.exc_info:
            data["exception"] = scrub(record.exc_text or self.formatException(record.exc_info))  # type: ignore[arg-type]
        return scrub(json.dumps(data, ensure_ascii=False, default=str))


class ConsoleFormatter(logging.Formatter):
    """`HH:MM:SS LEVEL logger: message key=value ...` for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        ctx = getattr(record, "ctx", None) or {}
        pairs = " ".join(f"{k}={v}" for k, v in ctx.items() if v not in (None, ""))
        line = f"{when} {record.levelname:<7} {record.name}: {record.getMessage()}"
        line = f"{line}  {pairs}" if pairs else line
        if record.exc_text or record.exc_info:
            line += "\n" + (record.exc_text or self.formatException(record.exc_info))  # type: ignore[arg-type]
        return scrub(line)


def setup(
    level: str | None = None,
    fmt: str | None = None,
    *,
    stream: TextIO | None = None,
    logfile: str | None = None,
    default_level: str = "WARNING",
) -> logging.Logger:
    """Configure the root logger once per process (idempotent: replaces our earlier handlers)."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]
    # A command that sets up logging again (workers log at INFO) keeps the --log-file it had.
    logfile = logfile or next(
        (h.baseFilename for h in ours if isinstance(h, logging.FileHandler)), None
    )
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else ConsoleFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if logfile:
        handlers.append(_file_handler(logfile))
    for handler in ours:
        root.removeHandler(handler)
        if _is_file(handler):
            handler.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())
        setattr(handler, _HANDLER_FLAG, True)
        root.addHandler(handler)
    root.setLevel((level or default_level).upper())
    _quiet_noisy()
    return logging.getLogger("distributor")


def _is_file(handler: logging.Handler) -> bool:
    return isinstance(handler, logging.FileHandler)


def _file_handler(path: str) -> logging.Handler:
    """Rotating at 10 MB, five old files kept; ConfigError if the file cannot be opened."""
    from logging.handlers import RotatingFileHandler

    from distributor.errors import ConfigError

    try:
        return RotatingFileHandler(path, maxBytes=10 * 2**20, backupCount=5, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--log-file {path}: cannot write: {exc.strerror}") from None


def _quiet_noisy() -> None:
    """Noisy libraries log at WARNING; children given a lower level of their own inherit again."""
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        top = name.split(".", 1)[0]
        child = top in NOISY and "." in name and isinstance(logger, logging.Logger)
        if child and 0 < logger.level < logging.WARNING:  # type: ignore[union-attr]
            logger.setLevel(logging.NOTSET)  # type: ignore[union-attr]
