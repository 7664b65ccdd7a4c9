"""The admin UI in German and English: the message catalogue, the reader's language, the switch.

English is the message id itself; German lives in `locale/de.po`, read with Babel and compiled
in memory when the app starts, so a fresh clone needs no build step (`make messages` updates
the catalogue after template changes; tests/web/test_admin_i18n.py fails on any untranslated
string). The language is the one the reader picked with the switch (a cookie), else the best
match of the browser's `Accept-Language`, else English.

Python code marks fixed messages with `N_` (extracted, translated when shown) and messages with
values with `Text`: `Text("Delivery %(id)s not found", id=7)`; `Admin.page` translates the
`done` and `error` it is given.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse

if TYPE_CHECKING:
    from starlette.responses import Response

LANGUAGES = {"en": "English", "de": "Deutsch"}
DEFAULT = "en"
LANG_COOKIE = "distributor_lang"
_Q = re.compile(r"\bq\s*=\s*([^;\s]*)")
router = APIRouter()


def N_(message: str) -> str:  # the gettext name extractors look for
    """Mark a fixed message for the catalogue; it is translated where it is shown."""
    return message


class Text:
    """A message with values, translated when shown: `%(name)s` placeholders."""

    __slots__ = ("message", "params")

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return (
            self.message % {k: str(v) for k, v in self.params.items()}
            if self.params
            else self.message
        )


def translate(value: object, lang: str) -> str:
    """`value` in `lang`: a Text or a `Say` (or an error carrying one, like ActionError), an
    N_-marked message, or any other string (shown as it is when the catalogue lacks it)."""
    from distributor.errors import Say, Told
    from distributor.store.models import State

    if isinstance(value, Told):
        value = value.say
    if isinstance(value, Say):
        value = Text(value.text, **value.params)
    tr = translations(lang)
    if isinstance(value, State):  # a state named in a message reads as on the chips
        from distributor.web.admin.words import STATES

        return tr.gettext(STATES[value].word)
    if isinstance(value, Text):
        text = tr.gettext(value.message)
        nested = (Text, Say, Told, State)
        params = {
            k: translate(v, lang) if isinstance(v, nested) else v for k, v in value.params.items()
        }
        return text % params if params else text
    text = str(value or "")
    return tr.gettext(text) if text else ""


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of `lang` (English: the message ids as they are)."""
    if lang not in LANGUAGES or lang == DEFAULT:
        return gettext.NullTranslations()
    from importlib import resources

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    source = resources.files("distributor.web.admin").joinpath(f"locale/{lang}.po")
    with source.open("rb") as po:
        catalog = read_po(po, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy (unchecked) entries are left out, as msgfmt does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def language(request: Request) -> str:
    """The reader's language: the switch's cookie, else `Accept-Language`, else English."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return from_header(request.headers.get("accept-language", ""))


def from_header(header: str) -> str:
    """The best supported language of an `Accept-Language` header (RFC 9110 q-values)."""
    best, best_q = DEFAULT, 0.0
    for part in header.split(",")[:20]:
        tag, _, params = part.partition(";")
        primary = tag.strip().lower().split("-")[0]
        found = _Q.search(params)
        try:
            q = float(found.group(1)) if found else 1.0
        except ValueError:
            continue
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


@router.get("/language/{lang}", name="language")
def switch(request: Request, lang: str, next: str = "") -> Response:
    """Remember the reader's language for a year and go back to the page they were on.
    (A GET: it changes nothing but how pages read, so a link can do it on every page.)"""
    from distributor.web.admin.app import admin_of
    from distributor.web.admin.pages import safe_next

    response = RedirectResponse(safe_next(request, next), 303)
    if lang in LANGUAGES:
        auth = admin_of(request).auth
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            path=str(request.scope.get("root_path") or "") or "/",
            secure=auth.secure(request),
            httponly=True,
            samesite="lax",
        )
    return response
