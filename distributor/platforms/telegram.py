"""Telegram Bot API adapter (plain `requests`): sendMessage / sendPhoto in HTML parse mode.

Why not python-telegram-bot: it is async-first and heavyweight, and we need exactly one
synchronous attempt per call with our own error mapping. The bot token sits in the URL path
(`/bot<TOKEN>/sendMessage`), so errors are built only from the status code and Telegram's
`description`, transport errors are mapped without their text, and urllib3's URL logs are scrubbed.

Ambiguity policy: HOLD. The Bot API cannot list a channel's history, so after an unknown outcome
nobody can prove whether the post exists; `lookup()` raises `NotImplementedError` rather than
return None ("provably absent"), and reconciliation must leave the delivery for a human.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from distributor.errors import AuthFailed, MaybeSent, RateLimited, Rejected
from distributor.platform import BUILTIN, PlatformSpec
from distributor.platforms.rest import RestAdapter, body_of
from distributor.post import AccountInfo, Draft, Receipt
from distributor.redact import scrub
from distributor.telegram_html import TelegramHTMLError, utf16_length, visible_length

log = logging.getLogger(__name__)
# 400s of sendPhoto that prove Telegram could not use the image URL (nothing was posted)
_PHOTO_UNUSABLE = re.compile(
    r"failed to get HTTP URL content|wrong file identifier/HTTP URL|wrong type of the web page|"
    r"IMAGE_PROCESS_FAILED|PHOTO_INVALID_DIMENSIONS|wrong remote file"
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from distributor.secrets import Secret


class TelegramAdapter(RestAdapter):
    """Posts to one channel or group (`chat_id`) as one bot (`bot_token`)."""

    spec: ClassVar[PlatformSpec] = BUILTIN["telegram"]

    def configure(self, options: Mapping[str, str], credentials: dict[str, Secret]) -> None:
        self._token = credentials["bot_token"]
        self.chat_id = options["chat_id"]
        username = options.get("username") or ""
        if not username and self.chat_id.startswith("@"):
            username = self.chat_id
        self.username = username.lstrip("@")

    # -- the Adapter protocol -------------------------------------------------------------
    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        """sendPhoto with the text as caption when an image is present and the text fits 1024
        visible characters; otherwise (or when Telegram cannot fetch the image, which proves
        nothing was posted) sendMessage with a link preview of the article."""
        text = draft.text
        html = draft.format == "html"
        try:
            length = visible_length(text) if html else utf16_length(text)
        except TelegramHTMLError as exc:
            raise Rejected("telegram", self.channel.name, str(exc), status=400) from None
        params: dict[str, Any] = {"chat_id": self.chat_id}
        if html:
            params["parse_mode"] = "HTML"
        caption_limit = self.spec.limits.caption or 0
        if draft.image is not None and length <= caption_limit:
            try:
                photo = {**params, "photo": draft.image.url, "caption": text}
                return self._receipt(self._call("sendPhoto", photo))
            except Rejected as exc:
                if not _PHOTO_UNUSABLE.search(exc.detail):
                    raise
                # Telegram could not fetch the image, so nothing was posted: send the text alone
                log.warning(
                    "telegram/%s: image refused (%s), sending text", self.channel.name, exc.detail
                )
        preview: dict[str, Any] = {"is_disabled": False, "prefer_large_media": True}
        if draft.link:
            preview["url"] = draft.link
        message = {**params, "text": text, "link_preview_options": preview}
        return self._receipt(self._call("sendMessage", message))

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        """Telegram offers no way to find a bot's own posts: reconciliation must hold."""
        raise NotImplementedError(
            "telegram: the Bot API cannot list channel posts; an unknown outcome needs a human"
        )

    def delete(self, receipt: Receipt) -> None:
        chat_id = receipt.extra.get("chat_id") or self.chat_id
        try:
            self._call("deleteMessage", {"chat_id": chat_id, "message_id": int(receipt.remote_id)})
        except Rejected as exc:
            # Already gone (deleted by hand, or by a retract that crashed before recording it):
            # the goal of a delete is reached, so a repeated retract must not fail forever.
            if "message to delete not found" not in str(exc):
                raise

    def verify(self) -> AccountInfo:
        """getMe (the token works) and getChat (the bot can see the channel)."""
        me = self._call("getMe", {})
        chat = self._call("getChat", {"chat_id": self.chat_id})
        username = chat.get("username") or self.username
        title = chat.get("title") or chat.get("username") or str(chat.get("id", ""))
        return AccountInfo(
            platform="telegram",
            account_id=str(chat.get("id", self.chat_id)),
            name=f"{title} (bot @{me.get('username', '?')})",
            url=f"https://t.me/{username}" if username else None,
        )

    # -- internals ------------------------------------------------------------------------
    def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        path = f"/bot{self._token.reveal()}/{method}"
        response = self.http.call("POST", path, json=params)
        body = body_of(response)
        if response.status_code == 200 and body.get("ok") is True:
            result = body.get("result")
            return result if isinstance(result, dict) else {"value": result}
        self._raise(response.status_code, body)

    def _raise(self, status: int, body: dict[str, Any]) -> NoReturn:
        name = self.channel.name
        raw_code = body.get("error_code")
        code = raw_code if isinstance(raw_code, int) else status
        description = scrub(str(body.get("description") or f"HTTP {status}"))[:300]
        raw_parameters = body.get("parameters")
        parameters: dict[str, Any] = raw_parameters if isinstance(raw_parameters, dict) else {}
        if code == 429:
            retry = float(parameters.get("retry_after") or 30)
            raise RateLimited("telegram", name, description, retry_after=retry, status=status)
        if code in (401, 403, 404):
            # 404 is what Telegram answers for a malformed token path
            raise AuthFailed("telegram", name, description, status=status, code=str(code))
        if "migrate_to_chat_id" in parameters:
            new_id = parameters["migrate_to_chat_id"]
            detail = f"{description}: the group moved, set chat_id = {new_id}"
            raise Rejected("telegram", name, detail, status=status, code="migrated")
        if 400 <= code < 500:
            raise Rejected("telegram", name, description, status=status, code=str(code))
        # 5xx, or an answer that is not the Bot API's (a proxy page): the post may exist
        raise MaybeSent("telegram", name, f"HTTP {status}: the post may exist", status=status)

    def _receipt(self, message: dict[str, Any]) -> Receipt:
        message_id = str(message.get("message_id", ""))
        raw_chat = message.get("chat")
        chat: dict[str, Any] = raw_chat if isinstance(raw_chat, dict) else {}
        username = self.username or str(chat.get("username") or "")
        url = f"https://t.me/{username}/{message_id}" if username and message_id else None
        posted = message.get("date")
        return Receipt(
            platform="telegram",
            remote_id=message_id,
            url=url,
            posted_at=datetime.fromtimestamp(posted, UTC) if isinstance(posted, int) else None,
            extra={"chat_id": str(chat.get("id", self.chat_id))},
        )
