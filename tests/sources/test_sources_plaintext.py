"""Plain-text articles (issue 11 §10): pasted from a CMS, read with --url or --format text."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from locations import REPO
from review_helpers import run as run_cli

from distributor.config import load_config
from distributor.errors import ArticleError
from distributor.sources.plaintext import parse_text

Run = Callable[..., tuple[int, str, str]]
URL = "https://www.tageblatt-beispiel.de/lokales/radbruecke-neckar-a-20260212"
CONFIG = REPO / "examples" / "distributor.toml"

# The shape an editor pastes: section, headline, caption with credit, image address, share
# line, lead, subhead, body, a read-more link, a follow line and the topic list.
TEXT = """Lokales

Stadtrat gibt grünes Licht: Neue Radbrücke über den Neckar soll 12,5 Millionen Euro kosten

So könnte die neue Brücke aussehen: Entwurf bei Sonnenuntergang.
Bild: Stadtverwaltung/Planungsbüro Brückner

https://www.tageblatt-beispiel.de/bilder/2026/02/radbruecke-neckar-entwurf.jpg

  • Artikel teilen:

Nach fast zehn Jahren Planung ist die Entscheidung gefallen: Der Stadtrat hat am
Dienstagabend mit 38 zu 11 Stimmen den Bau einer Brücke beschlossen. Die Kosten liegen bei
12,5 Mio. Euro.

Eine Verbindung, die seit Jahren fehlt

Zwischen der Altstadt und dem Stadtteil Ostufer müssen Radfahrer bislang ausweichen.

Lesen Sie auch: Wo es in der Innenstadt noch keine Radwege gibt

„Wir schließen damit die größte Lücke in unserem Radnetz“, sagte Dr. Katrin Albers.

Folgen Sie dem Tageblatt schon bei Facebook und Instagram? Hier finden Sie aktuelle News.

Themen

Radverkehr, Stadtrat, Neckar
"""


def test_headline_lead_caption_body_and_tags() -> None:
    article = parse_text(TEXT, URL, "radbruecke.txt")
    assert article.section == "Lokales"
    assert article.title.startswith("Stadtrat gibt grünes Licht") and article.title.endswith(
        "Euro kosten"
    )
    assert article.teaser == (
        "Nach fast zehn Jahren Planung ist die Entscheidung gefallen: Der Stadtrat hat am "
        "Dienstagabend mit 38 zu 11 Stimmen den Bau einer Brücke beschlossen. "
        "Die Kosten liegen bei 12,5 Mio. Euro."
    )
    assert article.image is not None
    assert article.image.url.endswith("radbruecke-neckar-entwurf.jpg")
    assert article.image.credit == "Stadtverwaltung/Planungsbüro Brückner"
    assert article.image.alt.startswith("So könnte die neue Brücke aussehen")
    assert article.tags == ("Radverkehr", "Stadtrat", "Neckar")
    assert article.language == "de"
    body = article.body or ""
    for furniture in ("Artikel teilen", "Lesen Sie auch", "Folgen Sie", "Themen", "Bild:"):
        assert furniture not in body
    assert "Zwischen der Altstadt" in body and "Katrin Albers" in body


def test_english_text_without_section_or_image() -> None:
    text = (
        "Council approves heat-pump grants for 2,000 homes\r\n\r\n"
        "The city council has approved a grant scheme that will help around 2,000 households "
        "replace gas boilers with heat pumps over the next three years.\r\n\r\n"
        "Read more: How heat pumps work\r\n\r\n"
        "Councillors voted 41 to 9 in favour on Tuesday evening.\r\n"
    )
    article = parse_text(text, "https://www.example-news.co.uk/local/heat-pumps", "<stdin>")
    assert article.section is None and article.image is None
    assert article.title == "Council approves heat-pump grants for 2,000 homes"
    assert article.language == "en"
    assert "Read more" not in (article.body or "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Lesen Sie auch: etwas\n\nFolgen Sie uns", "no headline found"),
        ("Nur eine Schlagzeile ohne Text", "no article text after the headline"),
    ],
)
def test_text_without_article_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(ArticleError, match=rf"^notes\.txt: {message}"):
        parse_text(text, URL, "notes.txt")


def test_bad_url_is_named() -> None:
    with pytest.raises(ArticleError, match=r"notes\.txt: field 'url'"):
        parse_text(TEXT, "/lokales/radbruecke", "notes.txt")


@pytest.fixture
def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    def invoke(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
        return run_cli(capsys, *argv)

    return invoke


def test_cli_preview_file_with_url_strips_fbclid(tmp_path: Path, run: Run) -> None:
    path = tmp_path / "radbruecke.txt"
    path.write_text(TEXT, encoding="utf-8")
    code, out, err = run(
        "preview", str(path), "--url", URL + "?fbclid=IwAR0abc", "--json", "-c", str(CONFIG)
    )
    assert code == 0, err
    posts = json.loads(out)
    assert len(posts) == len(load_config(CONFIG, environ={}).channels)  # one per channel
    for post in posts:
        assert post["link"].startswith(URL + "?utm_source=") and "fbclid" not in post["text"]
        assert post["title"].startswith("Stadtrat gibt grünes Licht")


def test_cli_preview_stdin_with_format_text_and_errors(tmp_path: Path, run: Run) -> None:
    code, out, err = run(
        "preview", "-", "--format", "text", "--url", URL, "--json", "-c", str(CONFIG), stdin=TEXT
    )
    assert code == 0, err and json.loads(out)
    code, _, err = run("preview", "-", "--format", "text", "-c", str(CONFIG), stdin=TEXT)
    assert code == 2 and "--format text needs --url URL" in err and "Traceback" not in err
    path = tmp_path / "radbruecke.txt"
    path.write_text(TEXT, encoding="utf-8")
    code, _, err = run("preview", str(path), "-c", str(CONFIG))
    assert code == 2 and "a plain-text article needs --url URL" in err


def test_cli_publish_dry_run_takes_text(tmp_path: Path, run: Run) -> None:
    path = tmp_path / "radbruecke.txt"
    path.write_text(TEXT, encoding="utf-8")
    db = tmp_path / "log.db"
    code, out, err = run(
        "publish", str(path), "--url", URL, "--dry-run", "--json", "-c", str(CONFIG),
        "--database", f"sqlite:///{db}",
    )  # fmt: skip
    assert code == 0, err
    assert "radbruecke" in out and not db.exists()
