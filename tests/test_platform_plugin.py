"""A platform from a plugin works end to end: found through the real entry-point machinery
(`importlib.metadata`, group `distributor.platforms`), configured, rendered, planned and posted to
its own emulator in the sandbox by the real CLI in a subprocess.

The plugin (`tests/plugin_pkg`) is "installed" the way pip installs one: a `*.dist-info` folder
with an `entry_points.txt` on the path, here a temporary folder put on `sys.path` (and on the
subprocess's PYTHONPATH), so nothing is left installed in the venv.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from locations import REPO

from distributor import limits, platform
from distributor.article import Article
from distributor.config import load_config
from distributor.errors import ConfigError, TemplateError
from distributor.render import render
from distributor.sandbox import Sandbox

ARTICLE = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"
TOKEN = "pigeon-SECRET-token-0123456789"
CONFIG = """
[distributor]
sandbox = "{url}"

[channels.pigeon_loft]
platform = "pigeon"
loft = "north"
token_env = "PIGEON_TOKEN"
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder holding the plugin's distribution metadata, on sys.path for this test."""
    folder = tmp_path / "site"
    info = folder / "distributor_pigeon-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: distributor-pigeon\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[distributor.platforms]\npigeon = plugin_pkg:SPEC\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(folder))
    importlib.invalidate_caches()
    platform.platforms.cache_clear()
    yield folder
    platform.platforms.cache_clear()


def _article(**changes: object) -> Article:
    data = json.loads(ARTICLE.read_text("utf-8"))
    data.update(changes)
    return Article.from_dict(data)


def test_the_entry_point_brings_the_spec(site: Path) -> None:
    from plugin_pkg import SPEC

    assert platform.spec("pigeon") is SPEC
    assert "pigeon" in platform.platforms() and "pigeon" not in platform.BUILTIN
    assert limits.limit_for("pigeon") == 500
    assert limits.length("pigeon", "Grüße 👋🏽") == 7  # the spec's counter: graphemes


def test_a_plugin_cannot_replace_a_builtin(site: Path) -> None:
    info = next(site.glob("*.dist-info"))
    (info / "entry_points.txt").write_text(
        "[distributor.platforms]\npigeon = plugin_pkg:SPEC\nx = plugin_pkg:SPEC\n",
        encoding="utf-8",
    )
    platform.platforms.cache_clear()
    assert platform.platforms()["x"] is platform.BUILTIN["x"]


def test_unknown_platform_names_the_plugins_too(site: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown platform 'pidgeon' \(known: .*pigeon"):
        platform.spec("pidgeon")


def test_the_plugin_renders_and_refuses_an_article_without_image(
    site: Path, tmp_path: Path
) -> None:
    cfg = tmp_path / "distributor.toml"
    cfg.write_text(CONFIG.format(url="http://127.0.0.1:9"), encoding="utf-8")
    settings = load_config(cfg, environ={"PIGEON_TOKEN": TOKEN})
    channel = settings.channel("pigeon_loft")
    draft = render(_article(), channel, settings=settings)
    assert draft.platform == "pigeon" and draft.limit == 500
    assert draft.length == limits.length("pigeon", draft.text) <= 500
    assert draft.link.split("?")[0] in draft.text
    with pytest.raises(TemplateError, match="pigeon posts need an image"):
        render(_article(image=None), channel, settings=settings)


def test_publish_through_the_cli_posts_to_the_plugin_emulator(site: Path, tmp_path: Path) -> None:
    with Sandbox(port=0) as box:
        assert "pigeon" in box.emulators
        cfg = tmp_path / "distributor.toml"
        cfg.write_text(CONFIG.format(url=box.url), encoding="utf-8")
        path = os.pathsep.join([str(site), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])
        env = {
            **os.environ,
            "PYTHONPATH": path,
            "PIGEON_TOKEN": TOKEN,
            "DISTRIBUTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}",
        }
        cmd = [sys.executable, "-c", "from distributor.cli import main; main()"]
        cmd += ["--config", str(cfg), "publish", str(ARTICLE), "--wait", "--json"]
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        outcomes = json.loads(run.stdout)["outcomes"]
        assert [(o["channel"], o["state"]) for o in outcomes] == [("pigeon_loft", "sent")]
        [post] = box.posts("pigeon")
        settings = load_config(cfg, environ={"PIGEON_TOKEN": TOKEN})
        draft = render(_article(), settings.channel("pigeon_loft"), settings=settings)
        assert post.text == draft.text and post.account == "north"
        assert draft.image is not None and post.data["image_url"] == draft.image.url
        assert outcomes[0]["remote_id"] == post.id
        assert TOKEN not in run.stdout + run.stderr
