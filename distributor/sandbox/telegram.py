"""Telegram Bot API emulator: `/telegram/bot<TOKEN>/<method>` with JSON, form or multipart bodies.

Methods: sendMessage, sendPhoto, deleteMessage, getMe, getChat (GET or POST, like the real API).
Every answer has the Bot API shape: `{"ok": true, "result": ...}` or `{"ok": false, "error_code",
"description", "parameters"?}` with the HTTP status equal to `error_code`. HTML parse mode is
validated by `distributor.telegram_html` (Telegram's own error texts); lengths are checked on the
visible text in UTF-16 units (4096 text, 1024 caption). There are no rate-limit headers; a 429
carries `parameters.retry_after`.

Tokens: `<digits>:<30+ letters>` (a real token's shape) or the `sandbox-...` placeholders that
sandbox mode fills in for unset variables; anything else is 401 Unauthorized.
A photo URL containing `unreachable` is answered as if Telegram could not download it.
Chats (magic values for trying error paths by hand): `@missing...` -> 400 chat not found,
`@nobot...` -> 403 bot is not a member, a basic group id `-4...` -> 400 with
`migrate_to_chat_id`; any other `@name` or `-100...` id is a channel the bot may post in.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

from distributor.sandbox.emulator import Emulator, Reply, Request, Route, html_error_page
from distributor.telegram_html import TelegramHTMLError, parse, utf16_length

_TOKEN = re.compile(r"(?P<bot>\d{3,12}):[A-Za-z0-9_-]{30,}|sandbox-[a-z0-9_-]+")
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024
SANDBOX_BOT_ID = 7000000001
_DESCRIPTIONS = {
    400: "Bad Request: wrong parameters",
    401: "Unauthorized",
    403: "Forbidden: bot is not a member of the channel chat",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_KIND_DESCRIPTIONS = {
    "auth": (401, "Unauthorized"),
    "forbidden": (403, "Forbidden: bot was kicked from the channel chat"),
    "invalid": (400, "Bad Request: message is too long"),
    "duplicate": (400, "Bad Request: message is not modified"),
    "not_found": (400, "Bad Request: chat not found"),
}


class TelegramError(Exception):
    """A Bot API error answer raised inside a handler."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def fail(code: int, description: str, **parameters: Any) -> Reply:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Reply(code, body)


class TelegramEmulator(Emulator):
    """The Bot API methods `distributor` uses."""

    platform = "telegram"

    def routes(self) -> list[Route]:
        methods = {
            "create": "sendMessage|sendPhoto",
            "delete": "deleteMessage",
            "verify": "getMe|getChat",
        }
        return [
            Route(http, rf"/bot(?P<token>[^/]*)/(?P<method>{pattern})", self.handle, name)
            for name, pattern in methods.items()
            for http in ("POST", "GET")
        ]

    def account_of(self, req: Request) -> str:
        match = re.match(r"/bot([^/]*)/", req.path)
        return f"bot:{match.group(1)}" if match else "anonymous"

    def handle(self, req: Request, token: str, method: str) -> Reply:
        if not _TOKEN.fullmatch(token):
            return fail(401, "Unauthorized")
        handler = getattr(self, "_" + method)
        try:
            result = handler(req, token)
        except TelegramError as exc:
            return fail(exc.code, exc.description, **exc.parameters)
        return Reply(200, {"ok": True, "result": result})

    # -- methods --------------------------------------------------------------------------
    def _sendMessage(self, req: Request, token: str) -> dict[str, Any]:
        chat = self._chat(req)
        text, entities = self._text(req, "text", TEXT_LIMIT, "message is too long")
        if not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        preview = _json_param(req, "link_preview_options")
        data = {
            "html": req.param("text"),
            "parse_mode": req.param("parse_mode"),
            "entities": entities,
            "link_preview_options": preview,
            "chat_id": chat["id"],
        }
        return self._message(chat, text, data, {"text": text, "entities": entities})

    def _sendPhoto(self, req: Request, token: str) -> dict[str, Any]:
        chat = self._chat(req)
        caption, entities = self._text(req, "caption", CAPTION_LIMIT, "message caption is too long")
        upload = req.files().get("photo")
        photo = req.param("photo")
        if upload is None and not photo:
            raise TelegramError(400, "Bad Request: there is no photo in the request")
        if upload is None and photo and "unreachable" in photo:  # the sandbox can't fetch URLs
            raise TelegramError(400, "Bad Request: failed to get HTTP URL content")
        data = {
            "photo": photo
            if upload is None
            else {"upload": upload.filename, "size": len(upload.data)},
            "html": req.param("caption"),
            "parse_mode": req.param("parse_mode"),
            "entities": entities,
            "chat_id": chat["id"],
        }
        sizes = [
            {"file_id": f"AgAC-sandbox-{w}", "width": w, "height": w * 2 // 3}
            for w in (90, 320, 800)
        ]
        extra: dict[str, Any] = {"photo": sizes}
        if caption:
            extra.update(caption=caption, caption_entities=entities)
        return self._message(chat, caption, data, extra)

    def _deleteMessage(self, req: Request, token: str) -> bool:
        chat = self._chat(req)
        message_id = req.param("message_id") or ""
        post = self.state.find("telegram", message_id)
        if post is None or post.deleted or post.account != str(chat["id"]):
            raise TelegramError(400, "Bad Request: message to delete not found")
        self.state.delete("telegram", message_id)
        return True

    def _getMe(self, req: Request, token: str) -> dict[str, Any]:
        match = _TOKEN.fullmatch(token)
        bot = int(match.group("bot")) if match and match.group("bot") else SANDBOX_BOT_ID
        return {
            "id": bot,
            "is_bot": True,
            "first_name": "Distributor Sandbox",
            "username": "distributor_sandbox_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _getChat(self, req: Request, token: str) -> dict[str, Any]:
        return self._chat(req)

    # -- helpers --------------------------------------------------------------------------
    def _chat(self, req: Request) -> dict[str, Any]:
        raw = (req.param("chat_id") or "").strip()
        if not raw:
            raise TelegramError(400, "Bad Request: chat_id is empty")
        name = raw.lstrip("@").lower()
        if raw.startswith("@"):
            if name.startswith("missing"):
                raise TelegramError(400, "Bad Request: chat not found")
            if name.startswith("nobot"):
                raise TelegramError(403, "Forbidden: bot is not a member of the channel chat")
            chat_id = -1000000000000 - zlib.crc32(name.encode()) % 10**9
            return {"id": chat_id, "title": name.title(), "username": name, "type": "channel"}
        if not re.fullmatch(r"-?\d+", raw):
            raise TelegramError(400, "Bad Request: chat not found")
        if raw.startswith("-100"):
            return {"id": int(raw), "title": f"Channel {raw}", "type": "channel"}
        if raw.startswith("-4"):
            new_id = int("-100" + raw[1:])
            raise TelegramError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=new_id,
            )
        raise TelegramError(400, "Bad Request: chat not found")

    def _text(self, req: Request, field: str, limit: int, too_long: str) -> tuple[str, list[Any]]:
        raw = req.param(field) or ""
        mode = (req.param("parse_mode") or "").lower()
        if mode not in ("", "html", "markdown", "markdownv2"):
            raise TelegramError(400, "Bad Request: unsupported parse_mode")
        if mode != "html":
            text, entities = raw, []
        else:
            try:
                parsed = parse(raw)
            except TelegramHTMLError as exc:
                raise TelegramError(400, str(exc)) from None
            text = parsed.text
            entities = [_entity(e.tag, e.offset, e.length, e.argument) for e in parsed.entities]
        text = text.rstrip()  # Telegram trims trailing blanks (leading ones would move entities)
        if utf16_length(text) > limit:
            raise TelegramError(400, f"Bad Request: {too_long}")
        return text, entities

    def _message(
        self, chat: dict[str, Any], text: str, data: dict[str, Any], extra: dict[str, Any]
    ) -> dict[str, Any]:
        post = self.state.record("telegram", str(chat["id"]), text, data)
        return {
            "message_id": int(post.id),
            "date": int(post.created_at),
            "sender_chat": chat,
            "chat": chat,
            **extra,
        }

    # -- faults ---------------------------------------------------------------------------
    def error_reply(self, status: int, kind: str = "server") -> Reply:
        if kind == "html":
            return html_error_page(status)
        code, description = _KIND_DESCRIPTIONS.get(kind, (status, ""))
        if status != code:
            code, description = status, _DESCRIPTIONS.get(status, f"Error {status}")
        return fail(code, description)

    def rate_limited_reply(self, reset_at: float, limit: int) -> Reply:
        retry = max(1, int(reset_at - self.state.now() + 0.999))
        return fail(429, f"Too Many Requests: retry after {retry}", retry_after=retry)


_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def _entity(tag: str, offset: int, length: int, argument: str) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": _ENTITY_TYPES[tag], "offset": offset, "length": length}
    if tag == "a":
        entity["url"] = argument
    return entity


def _json_param(req: Request, name: str) -> Any:
    raw = req.param(name)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise TelegramError(400, f"Bad Request: can't parse {name} JSON object") from None
