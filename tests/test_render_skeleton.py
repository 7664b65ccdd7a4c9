"""Fitting fills a rendered skeleton instead of re-rendering: exactly the full render's text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Template

from distributor.article import Article, Image
from distributor.config import Channel
from distributor.errors import TemplateError
from distributor.render import context, engine, normalise, skeleton, slots
from distributor.render.guard import Budget
from distributor.resources import packaged_path

PACKAGED = Path(packaged_path("templates"))
ARTICLE = Article(
    url="https://www.example-zeitung.de/lokales/a-1.html",
    title="Rat <beschließt> „Haushalt“ & mehr",
    teaser="Erster Satz. Zweiter Satz.",
    tags=("Haushalt", "Stadtrat"),
    language="de",
    image=Image("https://www.example-zeitung.de/a.jpg", alt="Bild", credit="dpa & Co"),
)


def compiled(source: str, name: str = "custom.txt.j2") -> Template:
    return engine._compile(source.encode(), name, f"/tmp/{name}")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "{{ title }}\n{% if teaser %}{{ teaser }}{% endif %}\n{{ hashtags }}",
            {"teaser", "hashtags"},
        ),
        ("{{ teaser }} {{ hashtags.split() | first }}", {"teaser"}),
        ("{{ teaser|upper }} {{ hashtags }}", {"hashtags"}),
        ("{% if teaser|length > 3 %}{{ teaser }}{% endif %}{{ hashtags }}", {"hashtags"}),
        ("{{ teaser if teaser else title }}{{ hashtags }}", {"hashtags"}),
        ("{% set teaser = title %}{{ teaser }}{{ hashtags }}", {"hashtags"}),
        ("{% for c in teaser %}{{ c }}{% endfor %}{{ hashtags }}", {"hashtags"}),
        ("{% filter upper %}{{ teaser }}{% endfilter %}", set()),
        ("{% set x %}{{ teaser }}{% endset %}{{ x|upper }}", set()),
        ("{% macro m() %}{{ teaser }}{% endmacro %}{{ m() }}", set()),
        ("{% autoescape false %}{{ teaser }}{% endautoescape %}", set()),
        ("{% include 'x.txt.j2' %}", set()),
    ],
)
def test_only_plain_uses_are_fillable(source: str, expected: set[str]) -> None:
    assert slots.fillable_slots(compiled(source)) == expected


def test_packaged_templates_are_fillable() -> None:
    for path in PACKAGED.glob("*.j2"):
        template = engine.load(PACKAGED, path.name)
        assert template is not None
        fillable = slots.fillable_slots(template)
        assert fillable == ({"teaser"} if path.name.startswith("threads") else set(slots.SLOTS))


_VALUE = st.text(st.sampled_from("ab <>&\"'\n  .#\u00a0„“\ue000é"), max_size=12)
CUSTOM = [
    (
        "a.txt.j2",
        "{{ title }}\n\n{% if teaser %}{{ teaser }}\n\n{% endif %}{{ teaser }}|{{ hashtags }}",
    ),
    (
        "b.html.j2",
        "<b>{{ title }}</b> {% if hashtags %}{{ hashtags }}{% else %}-{% endif %}{{ teaser }}",
    ),
    ("c.txt.j2", "{% for t in tags %}{{ teaser }}{{ t }}{% endfor %}{{ hashtags.split()|first }}"),
]


def _values(name: str) -> dict[str, object]:
    channel = Channel(name="c", platform="telegram" if name.endswith(".html.j2") else "x")
    return context.build(ARTICLE, channel, limit=280)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(CUSTOM + [(p.name, None) for p in sorted(PACKAGED.glob("*.j2"))]),
    _VALUE,
    _VALUE,
)
def test_filled_text_is_the_full_render(
    spec: tuple[str, str | None], teaser: str, tags: str
) -> None:
    name, source = spec
    template = engine.load(PACKAGED, name) if source is None else compiled(source, name)
    assert template is not None
    values = _values(name)
    filler = skeleton.Filler(template, values, max_chars=10_000, budget=Budget(2.0))
    try:
        full: str | None = engine.run(
            template, {**values, "teaser": teaser, "hashtags": tags}, max_chars=10_000
        )
    except TemplateError:
        full = None  # the skeleton fails too, and the full render then gives the error
    for _ in range(2):  # the second time from the cached skeleton
        filled = filler.fill(teaser, tags)
        assert filled == full or (filled is None and not slots.fillable_slots(template))


def test_output_over_the_cap_takes_the_full_render() -> None:
    template = compiled("{{ teaser }}{{ hashtags }}")
    filler = skeleton.Filler(template, _values("x.txt.j2"), max_chars=50, budget=Budget(2.0))
    assert filler.fill("a" * 40, "b") == "a" * 40 + "b"
    assert filler.fill("a" * 60, "b") is None  # engine.run then refuses it, as before


_TEXT = st.text(st.sampled_from("ab \t\n\r\u00a0x"), max_size=30)


@settings(max_examples=500, deadline=None)
@given(_TEXT)
def test_normalise_shortcuts_equal_the_substitutions(text: str) -> None:
    import re

    expected = re.sub(r"[ \t\u00a0]+(?=\n|$)", "", text.replace("\r\n", "\n"))
    assert normalise(text) == re.sub(r"\n{3,}", "\n\n", expected).strip()
