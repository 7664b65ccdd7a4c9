"""JSON, YAML and stdin article sources: good input, every kind of bad input, format sniffing."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from locations import REPO

from distributor.article import Article
from distributor.errors import ArticleError
from distributor.sources import load, load_article_file

SAMPLE = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"

GOOD = {"url": "https://example.org/a", "title": "Ein Titel", "body": "Erster Satz. Zweiter."}


def _write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def _error(spec: str, **kwargs: object) -> str:
    with pytest.raises(ArticleError) as info:
        load(spec, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


def test_sample_article_loads_with_derived_teaser() -> None:
    [article] = load(str(SAMPLE))
    assert article.title.startswith("Stadtrat gibt grünes Licht")
    assert article.language == "de"
    assert article.tags == ("Radverkehr", "Stadtrat", "Neckar", "Verkehrswende")
    assert article.published_at is not None and article.published_at.utcoffset() is not None
    assert article.image is not None
    assert article.image.credit.startswith("Stadtverwaltung/")
    teaser = article.teaser
    assert teaser is not None
    assert teaser.startswith("Nach fast zehn Jahren Planung ist die Entscheidung gefallen:")
    assert teaser.endswith("über den Neckar beschlossen.")  # whole sentences only
    assert len(teaser) <= 280
    assert "Lesen Sie auch" not in teaser


def test_load_article_file_returns_one_article() -> None:
    article = load_article_file(SAMPLE)
    assert isinstance(article, Article)
    assert article.url.startswith("https://www.tageblatt-beispiel.de/lokales/")


def test_json_list_and_explicit_teaser_kept(tmp_path: Path) -> None:
    items = [GOOD, {**GOOD, "url": "https://example.org/b", "teaser": "Mein Teaser."}]
    articles = load(_write(tmp_path, "list.json", json.dumps(items)))
    assert [a.url for a in articles] == ["https://example.org/a", "https://example.org/b"]
    assert articles[0].teaser == "Erster Satz. Zweiter."
    assert articles[1].teaser == "Mein Teaser."


def test_load_article_file_refuses_a_list(tmp_path: Path) -> None:
    path = _write(tmp_path, "two.json", json.dumps([GOOD, GOOD]))
    with pytest.raises(ArticleError, match=r"holds 2 articles, expected exactly one"):
        load_article_file(path)


def test_yaml_file_with_dates_and_tags(tmp_path: Path) -> None:
    text = (
        "url: https://example.org/yaml\n"
        "title: Grüße aus Köln\n"
        "language: de-DE\n"
        "published_at: 2024-05-01T08:30:00+02:00\n"
        "tags: [Köln, Karneval]\n"
        "body: |\n  Der Zug kommt um 11.11 Uhr. Danach wird gefeiert.\n"
    )
    [article] = load(_write(tmp_path, "a.yaml", text))
    assert article.title == "Grüße aus Köln"
    assert article.language == "de"
    assert article.tags == ("Köln", "Karneval")
    assert article.published_at is not None and article.published_at.hour == 8
    assert article.teaser == "Der Zug kommt um 11.11 Uhr. Danach wird gefeiert."


def test_yaml_detected_by_content_without_extension(tmp_path: Path) -> None:
    [article] = load(_write(tmp_path, "article", "url: https://example.org/x\ntitle: T\n"))
    assert article.url == "https://example.org/x"


def test_json_detected_by_content_with_wrong_extension(tmp_path: Path) -> None:
    [article] = load(_write(tmp_path, "article.txt", json.dumps(GOOD)))
    assert article.title == "Ein Titel"


def test_stdin_text_and_binary_streams() -> None:
    [a] = load("-", stdin=io.StringIO(json.dumps(GOOD)))
    assert a.url == "https://example.org/a"
    stream = io.TextIOWrapper(io.BytesIO(json.dumps(GOOD).encode()), encoding="utf-8")
    [b] = load("-", stdin=stream)
    assert b.article_id == a.article_id


def test_stdin_errors_name_stdin() -> None:
    with pytest.raises(ArticleError, match=r"^<stdin>: empty input$"):
        load("-", stdin=io.StringIO("  \n"))
    with pytest.raises(ArticleError, match=r"^<stdin>: not valid JSON"):
        load("-", stdin=io.StringIO('{"url": '))


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.json", '{"url": "https://e.org/a", "title": }', r"broken\.json: not valid JSON: "),
        ("notitle.json", '{"url": "https://e.org/a"}', r"notitle\.json: missing title$"),
        ("nourl.json", '{"title": "T"}', r"nourl\.json: missing url$"),
        (
            "rel.json",
            '{"url": "/politik/a", "title": "T"}',
            r"rel\.json: field 'url' must be an absolute",
        ),
        (
            "tags.json",
            '{"url": "https://e.org/a", "title": "T", "tags": 5}',
            r"field 'tags' must be a list",
        ),
        (
            "title.json",
            '{"url": "https://e.org/a", "title": ["T"]}',
            r"field 'title' must be a string",
        ),
        (
            "date.json",
            '{"url": "https://e.org/a", "title": "T", "published_at": "gestern"}',
            r"field 'published_at' is not an ISO-8601 date",
        ),
        (
            "unknown.json",
            '{"url": "https://e.org/a", "title": "T", "titel": "x"}',
            r"unknown field 'titel'",
        ),
        ("scalar.json", "42", r"scalar\.json: expected an article object"),
        ("empty.json", "", r"empty\.json: empty input$"),
        ("emptylist.json", "[]", r"emptylist\.json: empty list, no articles$"),
        (
            "item.json",
            '[{"url": "https://e.org/a", "title": "T"}, {"url": "https://e.org/b"}]',
            r"item\.json: item 2: missing title$",
        ),
        (
            "listofstr.json",
            '["https://e.org/a"]',
            r"item 1: expected an object with 'url' and 'title', got a string",
        ),
        (
            "bad.yaml",
            "url: [unclosed\ntitle: T\n",
            r"bad\.yaml: not valid YAML: .*\(line \d+, column \d+\)",
        ),
        (
            "prose.txt",
            "Just some words, no article here.\n",
            r"prose\.txt: not an article: expected JSON, YAML \(with url and title\), an RSS",
        ),
        (
            "news.txt",
            "Lokales\n\nStadtrat gibt grünes Licht für Radbrücke\n\nNach fast zehn Jahren Planung "
            "ist die Entscheidung gefallen.\n\nLesen Sie auch: Radwege in der Innenstadt\n",
            r"news\.txt: not an article: expected JSON, YAML",
        ),
        ("scalar.yaml", "just text\n", r"scalar\.yaml: expected an article object .* got text$"),
        ("binary.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", r"binary\.json: binary data"),
        (
            "latin1.json",
            '{"url": "https://e.org/a", "title": "Grüße"}'.encode("latin-1"),
            r"latin1\.json: input is not UTF-8 text",
        ),
        (
            "sitemap.xml",
            '<?xml version="1.0"?><urlset><url/></urlset>',
            r"sitemap\.xml: XML document with root <urlset> is not an RSS",
        ),
    ],
)
def test_broken_files_give_one_line_naming_file_and_problem(
    tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    message = _error(_write(tmp_path, name, content))
    assert message.startswith(str(tmp_path / name) + ":")
    assert __import__("re").search(expected, message), message


def test_unreadable_inputs(tmp_path: Path) -> None:
    assert _error(str(tmp_path / "missing.json")).endswith("missing.json: no such file")
    assert _error(str(tmp_path)).endswith(": is a directory, not an article file")


def test_url_without_fetch_is_refused() -> None:
    assert _error("https://example.org/a", fetch=False) == (
        "https://example.org/a: fetching URLs is switched off here"
    )


def test_json_load_keeps_heavy_parsers_unimported() -> None:
    code = (
        "import sys; from distributor.sources import load; "
        f"load({str(SAMPLE)!r}); "
        "print(sorted(m for m in ('feedparser', 'bs4', 'requests', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stdin_from_a_terminal_and_empty_spec_are_refused() -> None:
    with pytest.raises(ArticleError, match=r"^<stdin>: nothing piped in"):
        load("-", stdin=_Terminal())
    with pytest.raises(ArticleError, match=r"^no article source given"):
        load("  ")
