"""Fuzzing the input doors not covered by `tests/sources/test_sources_fuzz.py`: `distributor.toml`,
templates, JSON articles and random command lines. Whatever comes in: a result or one clear
error line, never a traceback, an exit code from the documented set, nothing planned from a bad
input. `make fuzz` runs FUZZ_EXAMPLES (10,000) examples per door instead of CI's bounded count."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distributor.article import Article
from distributor.config import Channel, Settings, load_config
from distributor.errors import ArticleError, ConfigError, DistributorError, TemplateError
from distributor.render import clear_cache, render

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
EXIT_CODES = {0, 1, 2, 3, 4, 5}  # README: "Exit codes"
VALUE = st.one_of(
    st.text(max_size=20),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
)
KEYS = [
    "platform",
    "template",
    "rate",
    "delay",
    "review",
    "sections",
    "tags",
    "utm",
    "limit",
    "access_token_env",
    "hashtags",
    "enabled",
    "language",
    "x",
    "",
]


def _toml_value(v: object) -> str:
    return json.dumps(v, ensure_ascii=False)


@FUZZ
@given(
    head=st.sampled_from(
        ["", "[distributor]\n", "[distributor]\nsandbox = true\n", "[dispatch]\n"]
    ),
    channels=st.dictionaries(
        st.text(st.sampled_from("abc-_. 9ä"), min_size=1, max_size=8),
        st.dictionaries(st.sampled_from(KEYS), VALUE, max_size=5),
        max_size=3,
    ),
    junk=st.text(max_size=30),
)
def test_any_config_loads_or_fails_with_one_line(
    tmp_path_factory: pytest.TempPathFactory,
    head: str,
    channels: dict[str, dict[str, object]],
    junk: str,
) -> None:
    lines = [head]
    for name, keys in channels.items():
        lines.append(f"[channels.{_toml_value(name)}]")
        lines += [f"{_toml_value(k)} = {_toml_value(v)}" for k, v in keys.items()]
    lines.append(junk)
    path = tmp_path_factory.mktemp("cfg") / "distributor.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        loaded = load_config(path, environ={})
    except ConfigError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip(), str(exc)
        assert "Traceback" not in str(exc)
    else:
        assert isinstance(loaded, Settings)


TEMPLATE_PARTS = st.sampled_from(
    [
        "{{ title }}",
        "{{ link }}",
        "{{ teaser }}",
        "{{ hashtags }}",
        "{% if teaser %}",
        "{% endif %}",
        "{% for t in tags %}",
        "{% endfor %}",
        "{{ t }}",
        "{{ title|upper }}",
        "{{ link|utm(a='b') }}",
        "{{ teaser|teaser(50) }}",
        "{{",
        "}}",
        "{%",
        "%}",
        "{#",
        "#}",
        "|",
        "(",
        ")",
        "'",
        '"',
        "\n",
        "{{ title[0] }}",
        "{{ title * 3 }}",
        "{{ 1/0 }}",
        "{{ nope }}",
        "{{ title.__class__ }}",
        "{% macro m() %}{{ caller() }}{% endmacro %}",
        "{{ range(5)|list }}",
        "<b>",
        "&amp;",
        "x",
    ]
)


@FUZZ
@given(parts=st.lists(TEMPLATE_PARTS, max_size=25), platform=st.sampled_from(["x", "telegram"]))
def test_any_template_renders_or_fails_with_one_line(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str], platform: str
) -> None:
    folder = tmp_path_factory.mktemp("tpl")
    ext = "html" if platform == "telegram" else "txt"
    (folder / f"{platform}.{ext}.j2").write_text("".join(parts), encoding="utf-8")
    article = Article(url="https://news.example/a", title="Titel", teaser="Ein Satz.", tags=("A",))
    clear_cache()
    try:
        draft = render(
            article,
            Channel(name="c", platform=platform),
            settings=Settings(path=None, channels=(), templates_dir=folder),
        )
    except TemplateError as exc:
        assert str(exc).startswith("channel 'c': ") and "\n" not in str(exc), str(exc)
    else:
        assert draft.length <= draft.limit


ARTICLE_KEYS = [
    "url",
    "title",
    "teaser",
    "body",
    "section",
    "tags",
    "language",
    "author",
    "published_at",
    "image",
    "guid",
    "updated_at",
    "extra",
]


@FUZZ
@given(
    data=st.one_of(
        st.dictionaries(
            st.sampled_from(ARTICLE_KEYS),
            st.one_of(
                VALUE, st.dictionaries(st.sampled_from(["url", "alt", "credit"]), VALUE, max_size=3)
            ),
            max_size=8,
        ),
        VALUE,
    )
)
def test_any_json_article_is_an_article_or_one_error(data: object) -> None:
    try:
        article = Article.from_dict(data, where="fuzz.json")
    except ArticleError as exc:
        assert str(exc).startswith("fuzz.json") and "\n" not in str(exc), str(exc)
    else:
        assert article.url.startswith(("http://", "https://")) and article.title.strip()


SAFE_COMMANDS = [
    "preview",
    "publish",
    "log",
    "show",
    "audit",
    "retry",
    "approve",
    "cancel",
    "pause",
    "resume",
    "status",
    "migrate",
    "reconcile",
]
TOKENS = st.one_of(
    st.sampled_from(
        [
            "--json",
            "--channel",
            "--database",
            "--limit",
            "--since",
            "--state",
            "--as",
            "-c",
            "--config",
            "--help",
            "--force",
            "--yes",
            "-",
            "1",
            "0",
            "-5",
            "99999999999999999999",
            "x_main",
            "nope.json",
            "24h",
            "sent",
            "--bogus",
        ]
    ),
    # an operating system's argv can hold anything but NUL
    st.text(st.characters(exclude_characters="\x00"), max_size=12),
)


@FUZZ
@given(command=st.sampled_from(SAFE_COMMANDS), argv=st.lists(TOKENS, max_size=6))
def test_any_command_line_exits_cleanly(
    tmp_path_factory: pytest.TempPathFactory, command: str, argv: list[str]
) -> None:
    from click.testing import CliRunner

    from distributor.cli import main

    folder = tmp_path_factory.mktemp("cli")
    db = f"sqlite:///{folder / 'd.db'}"
    args = [command, *argv]
    if command == "publish":
        args.append("--dry-run")  # never dispatch: a --wait would post to the sandbox
    runner = CliRunner()
    here = os.getcwd()
    os.chdir(folder)  # a stray distributor.db or .env lands in the example's own folder
    try:
        with runner.isolation(env={"DISTRIBUTOR_DATABASE_URL": db}) as streams:
            try:
                main(args)
                code: object = 0
            except SystemExit as exc:
                code = exc.code if exc.code is not None else 0
            out = streams[-1].getvalue()  # stdout and stderr interleaved
    finally:
        os.chdir(here)
    text = out.decode("utf-8", "replace")
    assert code in EXIT_CODES, (args, code, text[-500:])
    assert "Traceback" not in text, (args, text[-1000:])


def test_an_invalid_article_plans_nothing(tmp_path: Path) -> None:
    from distributor.planning import publish
    from distributor.store import open_store

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"url": "ftp://x", "title": "T"}), encoding="utf-8")
    store = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        with pytest.raises(DistributorError):
            publish(str(bad), store=store)
        assert store.query()[0] == []
    finally:
        store.close()


@pytest.mark.parametrize("ident", ["99999999999999999999", "²", "٤٢", "#7x", "0"])
def test_odd_delivery_ids_are_one_line_errors(tmp_path: Path, ident: str) -> None:
    """Found by fuzzing: an id past 64 bits overflowed the SQLite driver (a traceback), and
    `"²".isdigit()` is true but `int("²")` fails."""
    from click.testing import CliRunner

    from distributor.cli import main

    runner = CliRunner()
    env = {"DISTRIBUTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
    with runner.isolation(env=env) as streams:
        with pytest.raises(SystemExit) as info:
            main(["show", ident])
        out = streams[-1].getvalue().decode()  # stdout and stderr interleaved
    assert info.value.code == 2 and "Traceback" not in out, out
    assert out.strip().startswith("error: ") and len(out.strip().splitlines()) == 1, out


def test_a_file_name_with_a_nul_byte_is_one_line() -> None:
    """Found by `make fuzz`: `open()` raises ValueError for it, which was a traceback."""
    from distributor.planning import publish

    with pytest.raises(ArticleError, match="not a file name"):
        publish("article\0.json", dry_run=True)
