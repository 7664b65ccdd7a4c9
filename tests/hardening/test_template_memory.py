"""Issue 13 finding 3: the documented 64 MiB bound holds for every string/list method, operator
and block a template can reach, not only for the filters. Each hostile template runs in a
forked child under an address-space limit (`template_probe.py`), so a regression fails this
test instead of taking the machine down; ordinary uses of the same methods still work."""

from __future__ import annotations

from typing import Any

import pytest
from template_probe import probe_all, stopped_by_a_guard

from distributor.render import engine

BIG = '("x" * 200000)'
AMPLIFIERS = {
    "str.join separator": '{{ ("x" * 10000).join(range(100000)|map("string")) }}',
    "str.join of repeated refs": '{{ "".join(["x" * 200000] * 100000) }}',
    "join filter of repeated refs": '{{ (["x" * 200000] * 100000)|join }}',
    "printing repeated refs": '{{ ["x" * 200000] * 100000 }}',
    "str.expandtabs": '{{ ("\\t" * 100000).expandtabs(100000) }}',
    "str.replace empty": '{{ ("x" * 150000).replace("", "y" * 150000) }}',
    "str.format fields": '{{ ("{0}" * 60000).format("y" * 150000) }}',
    "str.format_map fields": '{{ ("{a}" * 60000).format_map({"a": "y" * 150000}) }}',
    "percent fields": '{{ ("%(a)s" * 40000) % {"a": "y" * 150000} }}',
    "str.translate": '{{ ("x" * 200000).translate({120: "y" * 200000}) }}',
    "dict.fromkeys": '{{ {}.fromkeys(range(100000), "y" * 200000)|string }}',
    "concat chain": "{% set a = " + BIG + " %}{% set b = a ~ a ~ a ~ a ~ a %}"
    "{% set c = b ~ b ~ b ~ b ~ b %}{% set d = c ~ c ~ c ~ c ~ c %}{{ d|length }}",
    "set block buffer": "{% set s %}{% for i in range(100000) %}{{ " + BIG + " }}"
    "{% endfor %}{% endset %}{{ s|length }}",
    "macro buffer": "{% macro m() %}{% for i in range(100000) %}{{ "
    + BIG
    + " }}{% endfor %}{% endmacro %}{{ m()|length }}",
    "filter block": "{% filter upper %}{% for i in range(100000) %}{{ "
    + BIG
    + " }}{% endfor %}{% endfilter %}",
    "generator into join": '{{ "".join(range(100000)|map("center", 200000)) }}',
    "wordwrap wrapstring": '{{ ("x " * 100000)|wordwrap(1, wrapstring="y" * 100000) }}',
    "urlize target": '{{ ("a.de " * 30000)|urlize(target="y" * 100000) }}',
    "tojson indent": "{{ (range(100000)|list)|tojson(indent=100000) }}",
    "deep macro recursion with big args": "{% macro f(s, n) %}{% if n %}{{ f(s ~ '', n - 1) }}"
    '{% endif %}{% endmacro %}{{ f("\U0001f600" * 190000, 500) }}',
    "sum of lists": "{{ (range(50000)|map('string')|map('list')|list)|sum(start=[])|length }}",
}
ORDINARY = {
    '{{ ", ".join(["a", "b"]) }}': "a, b",
    '{{ "a\tb".expandtabs(4) }}': "a   b",
    '{{ "a b".replace(" ", "-") }}': "a-b",
    '{{ "{} ({})".format(title, 7) }}': "Ländergipfel in Berlin (7)",
    '{{ "%(t)s!" % {"t": title} }}': "Ländergipfel in Berlin!",
    "{{ title ~ ' | ' ~ link }}": "Ländergipfel in Berlin | https://news.example/a",
    "{% set s %}{% for i in range(3) %}{{ i }}{% endfor %}{% endset %}{{ s }}": "012",
    "{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(title) }}": "<Ländergipfel in Berlin>",
    "{{ [1, 2]|sum }} {{ ['a', 'b']|join('-') }}": "3 a-b",
    '{{ "abc".translate({98: "B"}) }}': "aBc",
    "{{ 'x '|wordwrap(10) }}|{{ 'see a.de'|urlize }}": "x|see",
}
MEMORY_CAP = 64 * 2**20


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    return probe_all(AMPLIFIERS)


@pytest.mark.parametrize("name", AMPLIFIERS)
def test_amplifier_is_refused_within_the_bounds(
    reports: dict[str, dict[str, Any]], name: str
) -> None:
    report = reports[name]
    result = report["result"]
    assert "\n" not in result and "probe.txt.j2" in result, result
    assert "MemoryError" not in result and "child died" not in result, result
    assert not result.startswith("rendered"), result
    assert stopped_by_a_guard(result), report  # how long it took: the probe's table, not here
    assert report["traced"] < MEMORY_CAP, report
    assert report["rss"] < MEMORY_CAP, report


@pytest.mark.parametrize("source", ORDINARY, ids=range(len(ORDINARY)))
def test_ordinary_use_still_renders(source: str) -> None:
    template = engine._compile(source.encode(), "ok.txt.j2", "ok.txt.j2")
    text = engine.run(
        template,
        {"title": "Ländergipfel in Berlin", "link": "https://news.example/a"},
        max_chars=1000,
    )
    assert text.startswith(ORDINARY[source]), text
