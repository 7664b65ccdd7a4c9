"""Facebook Page adapter on facebook-sdk (`facebook.GraphAPI`), pinned to a current Graph version.

facebook-sdk 3.1 only accepts versions up to 3.1 in its constructor (and defaults to the dead
v2.8), so the client is built without a version and `graph.version` is set afterwards to the
channel's `graph_version` (default v21.0). Its `requests.Session` gets `_GraphTransport` mounted
on https://graph.facebook.com/, which rewrites requests to `base_url` (the sandbox or the real
host), always applies a timeout, never retries, moves the page token the SDK adds to query
strings and forms into an `Authorization: OAuth` header (so no URL, exception or log line carries
it), and remembers the last response per thread: facebook-sdk returns only the JSON body, and the
error mapping and the usage figures need the HTTP status and the `X-*-Usage` headers.

Posts: with an article image, `POST /{page}/photos` (`url` + `caption`; if Graph cannot fetch the
image, (#324), the post falls back to a link post); otherwise `POST /{page}/feed` with `message` +
`link`, so the page shows a link preview. Graph has no alt-text parameter for page photos: the
alt text is dropped; the credit is in the text (the spec's `credit_in_text`: rendering adds it).

Ambiguity policy: LOOKUP in `GET /{page}/published_posts` since the attempt began.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from distributor.errors import ConfigError, MaybeSent, NotSent, PublishError, Rejected
from distributor.platform import BUILTIN, PlatformSpec
from distributor.platforms.http import RewriteAdapter, classify_transport, new_session
from distributor.platforms.links import URL_IN_TEXT, any_same, unshim
from distributor.platforms.meta import classify, graph_time, graph_version, usage_extra, walk
from distributor.platforms.rest import guard_url_logs
from distributor.post import AccountInfo, Draft, Receipt
from distributor.redact import scrub

if TYPE_CHECKING:
    from distributor.config import Channel
    from distributor.secrets import Secret

log = logging.getLogger(__name__)
GRAPH_HOST = "https://graph.facebook.com/"
LOOKUP_PAGE_SIZE, LOOKUP_PAGES = 25, 8
# Page posts' `link` field is gone since Graph v3.3: the link is in the attachments.
ATTACHMENT_FIELDS = "attachments{unshimmed_url,url,target{url}}"


class Answer(NamedTuple):
    """What is kept of the last response. Not the Response itself: it points back at the
    transport, and that reference cycle kept a discarded adapter's connection open until the
    garbage collector happened to run."""

    status_code: int
    headers: Mapping[str, str]


class _GraphTransport(RewriteAdapter):
    """graph.facebook.com -> base_url; the SDK's token moved into a header; last answer kept.

    The token travels with each request (each adapter's GraphAPI adds its own), so one session
    may serve several pages. Moving it out of query strings and urlencoded forms keeps it out of
    URLs, which requests puts into exception texts and urllib3 into its DEBUG logs.
    """

    def __init__(self, target: str, timeout: tuple[float, float]) -> None:
        super().__init__(target, timeout=timeout, max_retries=0)
        self.target = target.rstrip("/")
        self._local = threading.local()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        _token_to_header(request)
        self._local.answer = None
        response = super().send(request, **kwargs)
        self._local.answer = Answer(response.status_code, response.headers)
        return response

    @property
    def last(self) -> Answer | None:
        """This thread's last answer (the SDK hands out only the parsed body)."""
        answer: Answer | None = getattr(self._local, "answer", None)
        return answer


def _token_to_header(request: requests.PreparedRequest) -> None:
    parts = urlsplit(request.url or "")
    query = parse_qsl(parts.query, keep_blank_values=True)
    token = next((v for k, v in query if k == "access_token"), None)
    if token is not None:
        rest = urlencode([(k, v) for k, v in query if k != "access_token"])
        request.url = urlunsplit(parts._replace(query=rest))
    elif request.headers.get("Content-Type") == "application/x-www-form-urlencoded":
        body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
        form = parse_qsl(body, keep_blank_values=True)
        token = next((v for k, v in form if k == "access_token"), None)
        if token is not None:
            request.prepare_body([(k, v) for k, v in form if k != "access_token"], None)
    if token:  # multipart uploads keep it in the body: bodies are never logged
        request.headers["Authorization"] = f"OAuth {token}"


def _graph_session(
    session: requests.Session | None, base_url: str, timeout: tuple[float, float]
) -> tuple[requests.Session, _GraphTransport]:
    """The session facebook-sdk gets, with a transport for graph.facebook.com mounted once."""
    session = session or new_session(base_url)
    mounted = session.adapters.get(GRAPH_HOST)
    if isinstance(mounted, _GraphTransport):
        if mounted.target == base_url.rstrip("/"):
            return session, mounted
        session = new_session(base_url)  # the shared one serves another base_url: keep it
    transport = _GraphTransport(base_url, timeout)
    session.mount(GRAPH_HOST, transport)
    return session, transport


class FacebookAdapter:
    """Posts to one Facebook Page (`page_id`) with that page's access token (`page_token`)."""

    spec: ClassVar[PlatformSpec] = BUILTIN["facebook"]

    def __init__(
        self,
        channel: Channel,
        credentials: dict[str, Secret],
        *,
        base_url: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        import facebook  # the SDK only when a Facebook channel is really used

        self.channel = channel
        self.page_id = str(channel.options.get("page_id") or "")
        if not self.page_id:
            raise ConfigError(f"channel {channel.name}: page_id is missing")
        self.version = graph_version(channel.name, channel.options.get("graph_version"))
        limits = (min(5.0, timeout), timeout)
        self.session, self._transport = _graph_session(session, base_url, limits)
        token = credentials["page_token"].reveal()
        self.graph = facebook.GraphAPI(access_token=token, timeout=limits, session=self.session)
        self.graph.version = self.version  # the constructor rejects anything newer than 3.1
        self._sdk_error: type[Exception] = facebook.GraphAPIError
        guard_url_logs()

    # -- the Adapter protocol -------------------------------------------------------------
    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        if draft.image is not None:
            try:
                return self._photo(draft)
            except Rejected as exc:
                if exc.code != "324":
                    raise
                log.warning(
                    "facebook/%s: Graph could not use the image %s; posting a link instead",
                    self.channel.name,
                    scrub(draft.image.url),
                )
        data = {"message": draft.text}
        if draft.link:
            data["link"] = draft.link
        result = self._call(lambda: self.graph.put_object(self.page_id, "feed", **data), True)
        return self._receipt(str(result.get("id") or ""), {})

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        wanted = {draft.text.strip()}
        args = {
            "fields": "id,message,created_time,permalink_url," + ATTACHMENT_FIELDS,
            "since": str(int(since.timestamp()) - 5),
            "limit": str(LOOKUP_PAGE_SIZE),
        }

        def fetch(params: dict[str, str]) -> dict[str, Any]:
            get = self.graph.get_connections
            return self._call(lambda: get(self.page_id, "published_posts", **params), False)

        name = self.channel.name
        for post in walk(
            fetch, args, pages=LOOKUP_PAGES, platform="facebook", channel=name, since=since
        ):
            if is_ours(draft, post, wanted):
                created = graph_time(post.get("created_time"))
                url = post.get("permalink_url") or permalink(str(post.get("id")))
                return Receipt("facebook", str(post.get("id")), url, posted_at=created)
        return None

    def delete(self, receipt: Receipt) -> None:
        try:
            self._call(lambda: self.graph.delete_object(receipt.remote_id), True)
        except Rejected as exc:
            if exc.code != "100/33":  # "does not exist": already deleted is what we want
                raise
            log.info("facebook/%s: post %s already gone", self.channel.name, receipt.remote_id)

    def verify(self) -> AccountInfo:
        page = self._call(lambda: self.graph.get_object(self.page_id, fields="id,name,link"), False)
        return AccountInfo(
            "facebook",
            str(page.get("id") or self.page_id),
            str(page.get("name") or self.page_id),
            page.get("link") or f"https://www.facebook.com/{self.page_id}",
        )

    # -- internals ------------------------------------------------------------------------
    def _photo(self, draft: Draft) -> Receipt:
        assert draft.image is not None
        data = {"url": draft.image.url, "caption": draft.text}
        result = self._call(lambda: self.graph.put_object(self.page_id, "photos", **data), True)
        post_id = str(result.get("post_id") or "")
        return self._receipt(post_id, {"photo_id": str(result.get("id") or "")})

    def _receipt(self, post_id: str, extra: dict[str, str]) -> Receipt:
        if not post_id:
            raise MaybeSent("facebook", self.channel.name, "no post id in Graph's answer")
        response = self._transport.last
        if response is not None:
            extra.update(usage_extra(response.headers))
        return Receipt(
            "facebook", post_id, permalink(post_id), posted_at=datetime.now(UTC), extra=extra
        )

    def _call(self, fn: Callable[[], Any], sending: bool) -> dict[str, Any]:
        """One SDK call; every failure becomes exactly one PublishError (no chained cause)."""
        try:
            result = fn()
        except requests.exceptions.JSONDecodeError:  # "json" content type, other body
            error = self._classify(None, sending)
        except requests.RequestException as exc:
            error = classify_transport(exc, "facebook", self.channel.name)
        except self._sdk_error as exc:
            error = self._classify(getattr(exc, "result", None), sending)
        except (KeyError, ValueError):  # the SDK choking on a body without a JSON content type
            error = self._classify(None, sending)
        else:
            return result if isinstance(result, dict) else {}
        if not sending and isinstance(error, MaybeSent):  # a read changes nothing
            error = NotSent("facebook", self.channel.name, error.detail, code=error.code)
        raise error from None

    def _classify(self, result: object, sending: bool) -> PublishError:
        response = self._transport.last
        status = response.status_code if response is not None else None
        headers: Mapping[str, str] = response.headers if response is not None else {}
        return classify("facebook", self.channel.name, result, status, headers, sending=sending)


def is_ours(draft: Draft, post: Mapping[str, Any], wanted: set[str]) -> bool:
    """Whether a page post is the draft: its message is our text, or the draft's link is its
    attachment's URL (`unshimmed_url`, or `url`/`target.url` behind the l.facebook.com shim) or
    a URL in its message, compared normalised."""
    if (message := str(post.get("message") or "").strip()) in wanted:
        return True
    found: list[object] = URL_IN_TEXT.findall(message)
    attachments = post.get("attachments")
    for item in (attachments or {}).get("data") or [] if isinstance(attachments, dict) else []:
        if isinstance(item, dict):
            target = item.get("target") if isinstance(item.get("target"), dict) else {}
            urls = (item.get("unshimmed_url"), item.get("url"), (target or {}).get("url"))
            found.extend(unshim(u) for u in urls if isinstance(u, str))
    return any_same(draft.link, found)


def permalink(post_id: str) -> str | None:
    """`https://www.facebook.com/{page}/posts/{post}` for a `{page}_{post}` id."""
    page, _, number = post_id.partition("_")
    return f"https://www.facebook.com/{page}/posts/{number}" if number else None
