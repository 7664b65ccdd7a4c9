"""`distributor preview` end to end (in-process, through `main`)."""

from __future__ import annotations

import json
import shutil
from functools import partial
from pathlib import Path

import pytest
from locations import REPO
from platform_helpers import link_shown

from distributor import limits
from distributor.cli import main
from distributor.platform import BUILTIN
from distributor.telegram_html import visible_length

CONFIG = REPO / "examples" / "distributor.toml"
ARTICLE = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"
URL = json.loads(ARTICLE.read_text("utf-8"))["url"]
CHANNELS = set(BUILTIN)  # the example configuration has one channel per platform


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = int(main(list(argv)) or 0)  # the console script does sys.exit(main())
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("config_first", [False, True])
def test_json_has_a_fitted_post_for_every_channel(
    capsys: pytest.CaptureFixture[str], config_first: bool
) -> None:
    args = ["preview", str(ARTICLE), "--json"]
    argv = ["--config", str(CONFIG), *args] if config_first else [*args, "--config", str(CONFIG)]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    posts = json.loads(out)
    assert {p["platform"] for p in posts} == CHANNELS
    for post in posts:
        assert {"channel", "platform", "text", "length", "limit", "article_id"} <= post.keys()
        html_post = post["format"] == "html"
        count = visible_length if html_post else partial(limits.length, post["platform"])
        assert post["length"] == count(post["text"])
        assert post["length"] <= post["limit"]
        assert post["link"].startswith(URL)
        assert link_shown(post["platform"], post["text"], post["link"], post["link_text"])


def test_human_output_shows_panels_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-c", str(CONFIG), "preview", str(ARTICLE), "--channel", "x-news")
    assert code == 0, err
    assert "x-news · x" in out and "Neue Radbrücke über den Neckar" in out
    assert "/280" in out and "facebook-news" not in out


def test_routing_skips_are_shown_not_posted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "distributor.toml"
    config.write_text(
        CONFIG.read_text("utf-8").replace(
            'exclude_sections = ["Anzeige"]', 'exclude_sections = ["Lokales"]'
        ),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "preview", str(ARTICLE), "-c", str(config), "--json")
    assert code == 0 and "facebook" not in {p["platform"] for p in json.loads(out)}
    code, out, _ = run(capsys, "preview", str(ARTICLE), "-c", str(config))
    assert code == 0 and "skipped facebook-news · facebook: section 'Lokales' is excluded" in out


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(ARTICLE.read_text("utf-8")))
    code, out, err = run(capsys, "preview", "-", "-c", str(CONFIG), "--json", "--channel", "x-news")
    assert code == 0, err
    assert [p["channel"] for p in json.loads(out)] == ["x-news"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["preview", "nope.json"], "nope.json"),
        (["preview", "{ARTICLE}", "--channel", "instagram"], "no channel named 'instagram'"),
        (["preview", "{ARTICLE}", "--config", "missing.toml"], "missing.toml: no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], in_tmp: Path, argv: list[str], expected: str
) -> None:
    argv = [a.replace("{ARTICLE}", str(ARTICLE)) for a in argv]
    if "--config" not in argv:
        argv += ["--config", str(CONFIG)]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err


def test_broken_template_fails_its_channel_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(CONFIG, tmp_path / "distributor.toml")
    config = tmp_path / "distributor.toml"
    config.write_text(
        config.read_text("utf-8").replace('# templates = "templates"', 'templates = "tpl"'),
        encoding="utf-8",
    )
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "mastodon.txt.j2").write_text("{{ title }}\n{{ oops }}\n", "utf-8")
    code, out, err = run(capsys, "preview", str(ARTICLE), "-c", str(config), "--json")
    assert code == 2
    assert len(json.loads(out)) == len(CHANNELS) - 1
    assert err.strip().endswith("mastodon.txt.j2:2: 'oops' is undefined")
    assert err.startswith("error: channel 'mastodon-news': ")


def test_help_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "preview", "--help")
    assert code == 0
    for word in ("ARTICLE_OR_FEED", "--config", "--channel", "--json", "Exit code 2"):
        assert word in out


def test_python_api_preview() -> None:
    from distributor import preview
    from distributor.article import Article

    article = Article.from_dict(json.loads(ARTICLE.read_text("utf-8")))
    items = preview(article, config=CONFIG, channels=["x-news", "bluesky-news"])
    assert [i.channel.name for i in items] == ["x-news", "bluesky-news"]
    assert all(i.ok and i.draft and i.draft.link.startswith(URL) for i in items)
    assert items[0].to_dict()["channel"] == "x-news"
    feed_items = preview(str(REPO / "examples" / "articles" / "feed.xml"), config=CONFIG)
    assert len({i.article.article_id for i in feed_items}) == 2
    assert len(feed_items) == 2 * len(CHANNELS) and all(i.ok for i in feed_items)
