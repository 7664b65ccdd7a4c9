"""Templates: lookup order, user overrides, filters, Telegram HTML, hostile templates."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from distributor.article import Article, Image
from distributor.config import Channel, Settings
from distributor.errors import TemplateError
from distributor.render import add_utm, clear_cache, hashtag_list, render, template_names

ARTICLE = Article(
    url="https://news.example/politik/artikel?id=7",
    title="Ländergipfel beschließt Plan",
    teaser="Die Länder einigen sich. Der Bund zahlt mit.",
    section="Politik",
    tags=("Bundesländer", "Klima-Schutz"),
    language="de",
    image=Image(url="https://news.example/i.jpg", credit="dpa"),
)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def user_templates(tmp_path: Path, **files: str) -> Settings:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return Settings(path=None, channels=(), templates_dir=folder)


def x(**kw: object) -> Channel:
    return Channel(name="x-main", platform="x", **kw)  # type: ignore[arg-type]


# --- hashtags and utm ---------------------------------------------------------------------


def test_hashtags_from_tags() -> None:
    tags = [
        "Ukraine-Krieg",
        "Wladimir Putin",
        "Bundesländer",
        "ukraine krieg",  # duplicate of the first, ignoring case
        "2024",  # digits only: not a hashtag
        "C++",  # punctuation that would change the meaning
        "#Nordkorea",
        "Kim Jong-un",
        "  ",
    ]
    assert hashtag_list(tags) == (
        "#UkraineKrieg",
        "#WladimirPutin",
        "#Bundesländer",
        "#Nordkorea",
        "#KimJongUn",
    )


def test_utm_replaces_old_utm_and_keeps_query_and_fragment() -> None:
    url = "https://a.example/p?id=5&utm_source=old&x=a%20b#top"
    tagged = add_utm(url, {"utm_source": "x", "medium": "social"})
    assert tagged == "https://a.example/p?id=5&x=a%20b&utm_source=x&utm_medium=social#top"
    assert add_utm(url, {}) == url


def test_filters_in_templates(tmp_path: Path) -> None:
    settings = user_templates(
        tmp_path,
        x__txt__j2="{{ url|utm(source='news', campaign='a b') }}\n"
        "{{ ['Ukraine-Krieg', 'Nordkorea']|hashtags }}\n"
        "{{ 'Der erste Satz ist hier. Der zweite folgt.'|teaser(30) }} {{ link }}",
    )
    text = render(ARTICLE, x(), settings=settings).text
    lines = text.split("\n")
    assert (
        lines[0] == "https://news.example/politik/artikel?id=7&utm_source=news&utm_campaign=a%20b"
    )
    assert lines[1] == "#UkraineKrieg #Nordkorea"
    assert lines[2].startswith("Der erste Satz ist hier.")


# --- lookup order ---------------------------------------------------------------------------


def test_lookup_order_names() -> None:
    assert template_names(x(), "en") == [
        "x-main.en.txt.j2",
        "x-main.txt.j2",
        "x.en.txt.j2",
        "x.txt.j2",
        "default.en.txt.j2",
        "default.txt.j2",
    ]
    tg = Channel(name="tg", platform="telegram", template="eilmeldung")
    assert template_names(tg, None) == ["eilmeldung.html.j2"]


def test_user_folder_overrides_packaged(tmp_path: Path) -> None:
    settings = user_templates(tmp_path, x__txt__j2="USER {{ title }} {{ link }}")
    assert render(ARTICLE, x(), settings=settings).text.startswith("USER Ländergipfel")
    # A plain user template beats the packaged language variant: the user folder comes first.
    english = Article(url=ARTICLE.url, title="Summit", language="en")
    assert render(english, x(), settings=settings).text.startswith("USER Summit")


def test_channel_template_beats_platform_template(tmp_path: Path) -> None:
    settings = user_templates(
        tmp_path,
        x__txt__j2="PLATFORM {{ link }}",
        x_main__txt__j2="CHANNEL {{ link }}",
        x_main__de__txt__j2="CHANNEL-DE {{ link }}",
    )
    (settings.templates_dir / "x_main.txt.j2").rename(settings.templates_dir / "x-main.txt.j2")  # type: ignore[operator]
    (settings.templates_dir / "x_main.de.txt.j2").rename(
        settings.templates_dir / "x-main.de.txt.j2"
    )  # type: ignore[operator]
    assert render(ARTICLE, x(), settings=settings).text.startswith("CHANNEL-DE ")
    english = Article(url=ARTICLE.url, title="Summit", language="en")
    assert render(english, x(), settings=settings).text.startswith("CHANNEL ")


def test_explicit_template(tmp_path: Path) -> None:
    settings = user_templates(tmp_path, eilmeldung__txt__j2="EIL: {{ title }} {{ link }}")
    assert render(ARTICLE, x(template="eilmeldung"), settings=settings).text.startswith("EIL:")
    with pytest.raises(TemplateError, match=r"channel 'x-main': no template 'fehlt\.txt\.j2'"):
        render(ARTICLE, x(template="fehlt"), settings=settings)
    with pytest.raises(TemplateError, match="must be a file name"):
        render(ARTICLE, x(template="../etc/passwd"), settings=settings)


# --- Telegram HTML ----------------------------------------------------------------------------


def test_telegram_escapes_article_text() -> None:
    nasty = Article(
        url="https://news.example/a?x=1&y=2",
        title='Tom & Jerry <b>"live"</b> 1 < 2',
        teaser="<script>alert(1)</script> & mehr",
        tags=("Tom & Jerry", "Kino"),
        language="de",
    )
    draft = render(nasty, Channel(name="tg", platform="telegram"))
    assert draft.format == "html"
    tags = {t.lower() for t in re.findall(r"</?\s*([a-zA-Z][\w-]*)", draft.text)}
    assert tags <= {"b", "i", "u", "s", "a", "code", "pre", "blockquote"}
    assert "<script>" not in draft.text and '<b>"live"</b>' not in draft.text
    assert "Tom &amp; Jerry &lt;b&gt;" in draft.text
    bold = re.search(r"<b>(.*?)</b>", draft.text)
    assert bold and html.unescape(bold.group(1)) == nasty.title
    assert 'href="https://news.example/a?x=1&amp;y=2"' in draft.text
    # Plain-text platforms get the same title verbatim, never HTML-escaped.
    plain = render(nasty, x())
    assert nasty.title in plain.text and "&amp;" not in plain.text and "&lt;" not in plain.text


def test_telegram_output_with_unsupported_tags_is_refused(tmp_path: Path) -> None:
    settings = user_templates(tmp_path, telegram__html__j2="<div>{{ title }}</div> {{ link }}")
    with pytest.raises(TemplateError, match=r'telegram\.html\.j2: Telegram would refuse .*"div"'):
        render(ARTICLE, Channel(name="tg", platform="telegram"), settings=settings)


# --- errors and hostile templates ---------------------------------------------------------------

HOSTILE = {
    "attribute walk": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "attr filter": "{{ title|attr('__class__') }}",
    "format walk": "{{ '{0.__class__.__init__.__globals__}'.format(title) }}",
    "attr format gadget": "{{ ('{0.__class__.__mro__}'|attr('format'))(title) }}",
    "globals": "{{ self.__init__.__globals__ }}",
    "mutation": "{{ tags.append('x') }}",
    "undefined": "{{ no_such_variable }}",
    "namespace removed": "{% set ns = namespace(a=1) %}{{ ns.a }}",
    "big repetition": "{{ 'a' * 100000000 }}",
    "big power": "{{ 2 ** 100000 }}",
    "huge range": "{% for i in range(10**9) %}{% endfor %}",
    "filter blow-up": "{{ 'aaaaaaaaaa'|replace('a', 'aaaaaaaaaa')|replace('a', 'aaaaaaaaaa')"
    "|replace('a', 'aaaaaaaaaa')|replace('a', 'aaaaaaaaaa')|replace('a', 'aaaaaaaaaa') }}",
    "huge output": "{% for i in range(99999) %}xxxxxxxxxx{% endfor %}",
    "runtime error": "{{ 1 // 0 }}",
}


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_templates_become_template_errors(tmp_path: Path, source: str) -> None:
    settings = user_templates(tmp_path, x__txt__j2="{{ title }}\n{{ link }}\n" + source + "\n")
    with pytest.raises(TemplateError) as info:
        render(ARTICLE, x(), settings=settings)
    message = str(info.value)
    assert message.startswith("channel 'x-main': ")
    assert re.search(r"templates/x\.txt\.j2(:3)?: ", message), message
    assert "\n" not in message


def test_error_names_file_and_line(tmp_path: Path) -> None:
    settings = user_templates(tmp_path, x__txt__j2="{{ title }}\n\n{{ titel }}\n")
    with pytest.raises(TemplateError, match=r"x\.txt\.j2:3: 'titel' is undefined"):
        render(ARTICLE, x(), settings=settings)
    settings = user_templates(tmp_path, x__txt__j2="{{ title }}\n{% if %}\n")
    clear_cache()
    with pytest.raises(TemplateError, match=r"x\.txt\.j2:2: "):
        render(ARTICLE, x(), settings=settings)


def test_oversized_template_source_is_refused(tmp_path: Path) -> None:
    settings = user_templates(tmp_path, x__txt__j2="{{ link }}" + " " * 70_000)
    with pytest.raises(TemplateError, match="template too large"):
        render(ARTICLE, x(), settings=settings)


def test_templates_see_plain_values_only(tmp_path: Path) -> None:
    settings = user_templates(
        tmp_path,
        x__txt__j2="{{ image.credit }}|{{ credit }}|{{ tags|join(',') }}|{{ platform }}"
        "|{{ channel }}|{{ language }}|{{ article_id }} {{ link }}",
    )
    text = render(ARTICLE, x(), settings=settings).text
    assert text.startswith(f"dpa|dpa|Bundesländer,Klima-Schutz|x|x-main|de|{ARTICLE.article_id} ")


def test_credit_is_the_bare_credit_the_label_belongs_to_the_template(tmp_path: Path) -> None:
    from dataclasses import replace

    settings = user_templates(tmp_path, x__txt__j2="{{ credit }} {{ link }}")
    for language in (None, "de", "en", "fr"):
        text = render(replace(ARTICLE, language=language), x(), settings=settings).text
        assert text.startswith("dpa https://")
    for language, label in (("de", "Foto: dpa"), ("en", "Photo: dpa"), ("fr", "© dpa")):
        text = render(
            replace(ARTICLE, language=language), Channel(name="fb", platform="facebook")
        ).text
        assert label in text
