"""The plugin interface every platform emulator implements: Request, Reply, Route, Post, Emulator.

One `Emulator` subclass per platform (`distributor/sandbox/<platform>.py`) declares its routes;
the core server (`distributor.sandbox.core`) strips the platform prefix, matches a route, applies
faults and limits, and calls the handler with a parsed `Request`. Handlers return a `Reply`.
"""

from __future__ import annotations

import json as _json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from distributor.sandbox.state import SandboxState

ERROR_KINDS = ("server", "auth", "forbidden", "invalid", "duplicate", "not_found", "html")


class BadRequest(Exception):
    """A handler could not parse the request; the core answers `error_reply(400, "invalid")`."""


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only request headers (last value wins for repeated names)."""

    def __init__(self, items: Mapping[str, str] | list[tuple[str, str]] | None = None) -> None:
        pairs = items.items() if isinstance(items, Mapping) else (items or [])
        self._data = {k.lower(): (k, v) for k, v in pairs}

    def __getitem__(self, key: str) -> str:
        return self._data[key.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._data.values())

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._data


@dataclass
class UploadedFile:
    """One file part of a multipart/form-data body."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Request:
    """An HTTP request as a handler sees it (path is AFTER the platform prefix)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    _parts: tuple[dict[str, str], dict[str, UploadedFile]] | None = field(default=None, repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON; BadRequest when it is not JSON."""
        try:
            return _json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(f"body is not valid JSON: {exc}") from None

    def form(self) -> dict[str, str]:
        """urlencoded or multipart text fields (first value of each)."""
        return self._multipart()[0]

    def files(self) -> dict[str, UploadedFile]:
        """multipart file parts by field name."""
        return self._multipart()[1]

    def param(self, name: str) -> str | None:
        """A parameter from the query, then the form, then the JSON body's top level."""
        if name in self.query:
            return self.query[name][0]
        form = self.form()
        if name in form:
            return form[name]
        if self.content_type == "application/json" and self.body:
            data = self.json()
            if isinstance(data, dict) and name in data and data[name] is not None:
                value = data[name]
                return value if isinstance(value, str) else _json.dumps(value)
        return None

    def _multipart(self) -> tuple[dict[str, str], dict[str, UploadedFile]]:
        if self._parts is None:
            self._parts = _parse_body(self.content_type, self.headers, self.body)
        return self._parts


def _parse_body(
    ctype: str, headers: Mapping[str, str], body: bytes
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    if ctype == "application/x-www-form-urlencoded":
        text = body.decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}, {}
    if ctype != "multipart/form-data":
        return {}, {}
    from email.parser import BytesParser
    from email.policy import HTTP

    head = f"Content-Type: {headers.get('content-type', '')}\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in message.iter_parts() if message.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = UploadedFile(filename, part.get_content_type(), data)
        else:
            fields.setdefault(name, data.decode(part.get_content_charset() or "utf-8", "replace"))
    return fields, files


@dataclass
class Reply:
    """What a handler answers. dict/list -> JSON; str -> text; bytes -> raw; None -> empty."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"  # ALWAYS sent (facebook-sdk needs it)

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return _json.dumps(self.body, ensure_ascii=False, default=_jsonable).encode("utf-8")


def _jsonable(value: Any) -> Any:
    """What JSON cannot hold (bytes an emulator kept, sets, tuples as keys...) as text."""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


@dataclass
class Route:
    """One endpoint: `pattern` is a regex full-matched against Request.path."""

    method: str
    pattern: str
    handler: Callable[..., Reply]
    name: str


@dataclass
class Post:
    """A post an emulator accepted."""

    platform: str
    id: str
    account: str
    text: str
    data: dict[str, Any]
    created_at: float
    deleted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "id": self.id,
            "account": self.account,
            "text": self.text,
            "data": self.data,
            "created_at": self.created_at,
            "deleted": self.deleted,
        }


def html_error_page(status: int) -> Reply:
    """The nginx-style HTML page a proxy in front of any API answers with."""
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    title = f"{status} {phrase}"
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return Reply(status, body, content_type="text/html")


class Emulator:
    """Base class of a platform emulator; subclasses set `platform` and implement `routes()`."""

    platform: ClassVar[str]

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def account_of(self, req: Request) -> str:
        """Who is calling (for per-account limits): the Authorization header by default."""
        return req.headers.get("authorization", "") or "anonymous"

    def error_reply(self, status: int, kind: str = "server") -> Reply:
        """The platform's real error shape for an injected fault (override per platform)."""
        if kind == "html":
            return html_error_page(status)
        return Reply(status, {"error": kind, "status": status})

    def rate_limited_reply(self, reset_at: float, limit: int) -> Reply:
        """The platform's real 429 (override per platform)."""
        retry = max(0, int(reset_at - self.state.now() + 0.999))
        return Reply(429, {"error": "rate limited"}, {"Retry-After": str(retry)})

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        """Headers sent on every response of a limited route ({} when the platform sends none)."""
        return {}
