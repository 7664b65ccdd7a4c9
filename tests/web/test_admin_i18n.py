"""The admin UI in German and English and in the newsroom's time zone: the catalogue covers
every string, the language follows Accept-Language until the reader switches, times are shown
in `[admin] timezone` with the zone's name across DST changes, and a bad zone is one line."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from admin_helpers import (
    CONFIG,
    SECRET,
    TOKEN,
    admin_settings,
    build_app,
    csrf_of,
    login,
    seed,
    serve,
)
from review_helpers import closed_port, run

from distributor.config import load_config
from distributor.errors import ConfigError
from distributor.store import open_store
from distributor.web.admin import i18n
from distributor.web.admin.options import admin_options
from distributor.web.admin.times import Clockface

ADMIN = Path(i18n.__file__).parent
BERLIN = 'timezone = "Europe/Berlin"'
URL = "https://news.example/politik/haushalt"


def extracted() -> set[str]:
    """Every message id `make messages` extracts: the files babel.cfg names (the admin's
    templates and code, and the services whose messages the admin shows)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (ADMIN / "locale" / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Text": None}
    found = extract_from_dir(str(ADMIN.parents[2]), method_map, options, keywords=keywords)
    return {m[2] if isinstance(m[2], str) else m[2][0] for m in found}


def test_every_message_has_a_german_translation() -> None:
    from babel.messages.pofile import read_po

    with (ADMIN / "locale" / "de.po").open("rb") as po:
        catalog = read_po(po, locale="de")
    # Plural messages are keyed by their singular, as extracted() names them.
    german = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    ids = extracted()
    assert len(ids) > 100
    missing = sorted(i for i in ids if i not in german or not all(texts(german[i].string)))
    assert not missing, f"untranslated (run `make messages`, then translate): {missing}"
    fuzzy = sorted(i for i in ids if german[i].fuzzy)
    assert not fuzzy, f"fuzzy translations are not shown, check them: {fuzzy}"
    unused = sorted(set(german) - ids)
    assert not unused, f"translations nothing uses any more: {unused}"
    for msg in german.values():  # the same %(name)s placeholders in both languages
        names = {n for t in texts(msg.id) for n in re.findall(r"%\((\w+)\)", t)}
        for text in texts(msg.string):
            assert names == set(re.findall(r"%\((\w+)\)", text)), msg.id
            assert not set("\"'") & set(text), f"German quotes „so“: {msg.id}"


def texts(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    """A message's text(s): one, or singular and plural."""
    return (value or "",) if not isinstance(value, tuple) else value


class _Text(HTMLParser):
    """Words a person reads in a template with the Jinja parts blanked out."""

    READ = frozenset({"placeholder", "title", "aria-label", "alt", "label"})

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")
        self.words += [v or "" for k, v in attrs if k in self.READ]

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.words.append(data)


@pytest.mark.parametrize("template", sorted(p.name for p in (ADMIN / "templates").glob("*.html")))
def test_templates_have_no_text_outside_the_catalogue(template: str) -> None:
    source = (ADMIN / "templates" / template).read_text(encoding="utf-8")
    source = re.sub(r"{%-? trans.*?endtrans -?%}", "", source, flags=re.S)
    source = re.sub(r"{{.*?}}|{%.*?%}|{#.*?#}", "", source, flags=re.S)
    parser = _Text()
    parser.feed(source)
    words = re.findall(r"[^\W\d_]{2,}", " ".join(parser.words))
    # What is the same in every language: the product's name, sample input, units.
    same = {"distributor", "https", "news", "example", "story", "url", "title", "ms"}
    left = [w for w in words if w.lower() not in same]
    assert not left, f"{template}: text not in the catalogue: {left}"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("", "en"),
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("de-AT", "de"),
        ("fr-FR,fr;q=0.9,de;q=0.5,en;q=0.4", "de"),
        ("en-GB,en;q=0.9,de;q=0.8", "en"),
        ("de;q=0.2, en;q=0.7", "en"),
        ("fr, es", "en"),
        ("*", "en"),
        ("de;q=abc, en", "en"),
        ("DE", "de"),
    ],
)
def test_language_from_accept_language(header: str, lang: str) -> None:
    assert i18n.from_header(header) == lang


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    settings = admin_settings(tmp_path, f"http://127.0.0.1:{closed_port()}", db, admin=BERLIN)
    store = open_store(db)
    ids = seed(settings, store, "Rat beschließt „Haushalt“ für 2027", URL)
    with serve(build_app(settings, store)) as base:
        http = requests.Session()
        login(http, base)
        yield {"base": base, "store": store, "ids": ids, "http": http}
    store.close()


def get(site: dict[str, Any], path: str, lang: str = "", **params: str) -> requests.Response:
    headers = {"Accept-Language": lang} if lang else {}
    url = site["base"] + "/admin" + path
    return site["http"].get(url, params=params, headers=headers)  # type: ignore[no-any-return]


def test_pages_follow_accept_language(site: dict[str, Any]) -> None:
    sky = site["ids"]["sky"]
    page = get(site, f"/deliveries/{sky}", "de-DE,de;q=0.9,en;q=0.5").text
    assert '<html lang="de">' in page
    assert f"Zustellung {sky}" in page and "Zu prüfen" in page and "Freigeben" in page
    assert "Approve" not in page and "Needs review" not in page
    page = get(site, f"/deliveries/{sky}", "en-US,en;q=0.9").text
    assert '<html lang="en">' in page and "Needs review" in page and "Approve" in page
    # Messages from the code are translated too: a refused filter, a finished action.
    bad = get(site, "/", "de", since="gestern")
    assert bad.status_code == 400
    assert "Seit: „gestern“ ist weder Datum/Uhrzeit noch Alter" in html.unescape(bad.text)
    csrf = csrf_of(get(site, "/").text)
    done = site["http"].post(
        site["base"] + "/admin/pause", data={"csrf": csrf}, headers={"Accept-Language": "de"}
    )
    assert (
        "Angehalten: Es wird nichts gesendet" in done.text
        and "Warteschlange anhalten" not in done.text
    )
    # A refused action says why in German too, with the values in it (the CLI keeps English).
    url = site["base"] + f"/admin/deliveries/{sky}"
    de = {"Accept-Language": "de"}
    data = {"csrf": csrf, "text": "lang " * 100}
    long = site["http"].post(url + "/approve", data=data, headers={**de, "Referer": url})
    # The switch on the answer to a form goes back to the form's page, not to the POST's URL.
    assert f'href="/admin/language/en?next=/admin/deliveries/{sky}"' in long.text
    assert long.status_code == 409
    assert f"Zustellung {sky}: Der bearbeitete Text ist zu lang für bluesky: 499/300" in long.text
    data = {"csrf": csrf, "at": "nächste Woche"}
    at = site["http"].post(url + "/reschedule", data=data, headers=de)
    assert "Kein Datum mit Uhrzeit in Europe/Berlin: „nächste Woche“" in html.unescape(at.text)


def test_the_switch_overrides_the_browser_and_stays(site: dict[str, Any]) -> None:
    base, http = site["base"], site["http"]
    page = get(site, "/", "de").text
    assert "Braucht Aufmerksamkeit" in page
    link = re.search(r'href="(/admin/language/en\?next=[^"]+)"', page)
    assert link, "the German page links to English"
    r = http.get(base + html.unescape(link.group(1)), headers={"Accept-Language": "de"})
    assert r.url == base + "/admin/" and "Needs attention" in r.text
    assert "Braucht Aufmerksamkeit" not in r.text
    cookie = next(c for c in http.cookies if c.name == i18n.LANG_COOKIE)
    assert (
        cookie.value == "en" and cookie.path == "/admin" and cookie.has_nonstandard_attr("HttpOnly")
    )
    assert "Needs attention" in get(site, "/scheduled", "de").text  # every page from now on
    # The login page has the switch too (before anyone signs in), and `next` stays inside.
    stranger = requests.Session()
    r = stranger.get(base + "/admin/language/de", params={"next": "https://evil.example/"})
    assert r.url == base + "/admin/login?next=/admin/"
    assert "Anmelden" in r.text and '<html lang="de">' in r.text
    r = stranger.get(base + "/admin/language/fr", params={"next": "/admin/login"})
    assert "Anmelden" in r.text  # an unknown language changes nothing


def test_times_in_the_newsroom_zone_across_dst(site: dict[str, Any]) -> None:
    masto, http = site["ids"]["masto"], site["http"]
    page = f"/deliveries/{masto}"
    for at, de, en in (
        ("2030-01-05 08:30", "05.01.2030, 08:30 MEZ", "2030-01-05 08:30 CET"),  # winter, +1
        ("2030-07-05 08:30", "05.07.2030, 08:30 MESZ", "2030-07-05 08:30 CEST"),  # summer, +2
    ):
        csrf = csrf_of(get(site, page).text)
        url = site["base"] + f"/admin/deliveries/{masto}/reschedule"
        assert http.post(url, data={"csrf": csrf, "at": at}).status_code == 200
        want = datetime.fromisoformat(at).replace(tzinfo=ZoneInfo("Europe/Berlin"))
        assert site["store"].get(masto).not_before == want.astimezone(UTC)
        german = get(site, page, "de").text
        assert de in german and '<small class="ago">(in ' in german
        assert en in get(site, page, "en").text
    assert "Zeitzone der Redaktion angegeben: Europe/Berlin" in get(site, "/scheduled", "de").text


def test_clock_face_dst_nights_and_ages() -> None:
    now = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    de = Clockface("de", ZoneInfo("Europe/Berlin"), lambda: now)
    en = Clockface("en", ZoneInfo("Europe/Berlin"), lambda: now)
    spring = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)  # 01:59 MEZ, a minute later 03:00 MESZ
    assert de.when(spring) == "29.03.2026, 01:59 MEZ"
    assert de.when(spring + timedelta(minutes=1)) == "29.03.2026, 03:00 MESZ"
    autumn = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 happens twice: the zone tells
    assert en.when(autumn) == "2026-10-25 02:30 CEST"
    assert en.when(autumn + timedelta(hours=1)) == "2026-10-25 02:30 CET"
    assert de.ago(now - timedelta(minutes=5)) == "vor 5 Min."
    assert en.ago(now - timedelta(minutes=5)) == "5 min. ago"
    assert de.ago(now + timedelta(hours=2)) == "in 2 Std."
    assert de.when(None) == "–" and de.ago(None) == ""
    stamp = str(de.stamp(now - timedelta(days=1)))
    assert stamp.startswith('<time datetime="2026-10-24T12:00:00Z">24.10.2026, 14:00 MESZ')
    assert "(vor 1 Tag)" in stamp
    utc = Clockface("de", ZoneInfo("UTC"), lambda: now)
    assert utc.when(now) == "25.10.2026, 12:00 UTC"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('timezone = "Europe/Berln"', "unknown time zone 'Europe/Berln'"),
        ("timezone = 1", "must be a time zone name like Europe/Berlin"),
        ('timezone = ""', "must be a time zone name like Europe/Berlin"),
    ],
)
def test_a_bad_time_zone_is_one_config_line(tmp_path: Path, line: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:  # when the configuration is loaded
        admin_settings(tmp_path, "builtin", f"sqlite:///{tmp_path / 'x.db'}", admin=line)
    message = str(caught.value)
    assert "\n" not in message and problem in message
    assert message.startswith(f"{tmp_path / 'distributor.toml'}: [admin] key 'timezone': ")


def test_serve_refuses_a_bad_time_zone_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = CONFIG.format(sandbox="builtin", db=f"sqlite:///{tmp_path / 'x.db'}")
    toml = toml.replace("[admin]\n", '[admin]\ntimezone = "Mars/Olympus"\n')
    (tmp_path / "distributor.toml").write_text(toml, encoding="utf-8")
    (tmp_path / ".env").write_text(
        "ADMIN_TOKEN=" + "t" * 40 + "\nDISTRIBUTOR_SESSION_SECRET=" + "s" * 40 + "\n"
    )
    code, out, err = run(
        capsys,
        "--config",
        str(tmp_path / "distributor.toml"),
        "serve",
        "--port",
        str(closed_port()),
    )
    assert code != 0 and out == ""
    assert "Traceback" not in err  # (a warning about the unset webhook secret may come first)
    (line,) = [x for x in err.splitlines() if "Mars/Olympus" in x]
    assert "distributor.toml: [admin] key 'timezone': unknown time zone 'Mars/Olympus'" in line


def test_the_default_zone_is_the_newsrooms_then_utc(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert admin_options(admin_settings(tmp_path, "builtin", db)).timezone == "UTC"
    toml = tmp_path / "distributor.toml"
    toml.write_text(
        toml.read_text().replace("[distributor]\n", '[distributor]\ntimezone = "Europe/Vienna"\n')
    )
    settings = load_config(
        toml, environ={"ADMIN_TOKEN": TOKEN, "DISTRIBUTOR_SESSION_SECRET": SECRET}
    )
    assert admin_options(settings).timezone == "Europe/Vienna"


def test_typed_times_are_read_in_the_newsroom_zone(tmp_path: Path) -> None:
    from distributor.web.admin.views import log_query

    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        q = log_query({"since": "2026-07-01T10:00", "until": "2026-03-29"}, store, "Europe/Berlin")
    finally:
        store.close()
    assert q.filters.since == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 MESZ
    # A bare `until` date takes in that whole day, which on the spring change has 23 hours.
    assert q.filters.until == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)


def test_a_refused_form_says_so_in_german(site: dict[str, Any]) -> None:
    r = site["http"].post(site["base"] + "/admin/pause", headers={"Accept-Language": "de"})
    assert r.status_code == 403 and r.text.startswith("Das Formular ist nicht mehr gültig")


def test_routing_reasons_in_both_languages(tmp_path: Path) -> None:
    from distributor.article import Article
    from distributor.routing import skip_reason, skip_say

    toml = tmp_path / "distributor.toml"
    toml.write_text(
        '[channels.masto]\nplatform = "mastodon"\naccess_token_env = "T"\n'
        'sections = ["Politik"]\nexclude_tags = ["Anzeige"]\n',
        encoding="utf-8",
    )
    (channel,) = load_config(toml, environ={}).channels
    sport = Article(url=URL, title="Tor!", section="Sport")
    assert skip_reason(sport, channel) == "section 'Sport' is not in ['Politik']"  # the CLI's
    assert i18n.translate(skip_say(sport, channel), "de") == (
        "Das Ressort 'Sport' ist nicht unter ['Politik']"
    )
    ad = Article(url=URL, title="Wahl", section="Politik", tags=["Anzeige"])
    assert (
        i18n.translate(skip_say(ad, channel), "de") == "Das Schlagwort „Anzeige“ ist ausgeschlossen"
    )
    assert skip_say(Article(url=URL, title="Wahl", section="Politik"), channel) is None
