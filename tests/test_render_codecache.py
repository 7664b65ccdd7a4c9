"""Compiled templates kept on disk: reused when nothing changed, ignored when unsafe or damaged."""

from __future__ import annotations

import marshal
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from distributor.errors import TemplateError
from distributor.render import codecache, engine, slots

SOURCE = "{{ title }}{% if teaser %} {{ teaser }}{% endif %} {{ url }} {{ hashtags | join(' ') }}"
VALUES = {
    "title": "Überschwemmung in der Innenstadt",
    "teaser": "„Wasser“",
    "url": "https://x.de",
    "hashtags": ["#Flut"],
}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DISTRIBUTOR_CACHE_DIR", str(tmp_path / "cache"))
    engine.clear_cache()
    yield tmp_path / "cache" / "templates"
    engine.clear_cache()


def write(folder: Path, text: str = SOURCE, name: str = "x.txt.j2") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def fresh_load(folder: Path, name: str = "x.txt.j2") -> engine.Template:
    engine.clear_cache()  # what a new process starts with
    template = engine.load(folder, name)
    assert template is not None
    return template


def test_a_new_process_reuses_the_compiled_template(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write(tmp_path / "templates")
    first = fresh_load(folder)
    [stored] = list(cache.iterdir())
    assert stored.stat().st_mode & 0o777 == 0o600 and cache.stat().st_mode & 0o777 == 0o700

    def no_compiling(*args: object) -> None:
        raise AssertionError("compiled again although the cache holds it")

    monkeypatch.setattr(engine, "_compile_source", no_compiling)
    second = fresh_load(folder)
    assert second is not first
    assert engine.run(second, VALUES, max_chars=500) == engine.run(first, VALUES, max_chars=500)
    assert slots.fillable_slots(second) == slots.fillable_slots(first) == {"teaser"}
    assert second.filename == str(folder / "x.txt.j2")  # errors still name the file


def test_an_edited_template_is_compiled_afresh(cache: Path, tmp_path: Path) -> None:
    folder = write(tmp_path / "templates")
    fresh_load(folder)
    write(folder, "{{ title }} – neu")
    assert engine.run(fresh_load(folder), VALUES, max_chars=500) == f"{VALUES['title']} – neu"
    assert len(list(cache.iterdir())) == 2


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"not marshal",
        b"\xe3garbage",
        marshal.dumps((codecache.FORMAT, compile("0", "x", "eval"), 7)),
    ],
)
def test_a_damaged_file_is_ignored(cache: Path, tmp_path: Path, damage: bytes) -> None:
    folder = write(tmp_path / "templates")
    fresh_load(folder)
    [stored] = list(cache.iterdir())
    stored.write_bytes(damage)
    assert engine.run(fresh_load(folder), VALUES, max_chars=500).startswith(VALUES["title"])


def test_a_file_others_may_write_is_not_run(cache: Path, tmp_path: Path) -> None:
    folder = write(tmp_path / "templates")
    fresh_load(folder)
    [stored] = list(cache.iterdir())
    stored.chmod(0o666)
    assert codecache.load(cache, "x.txt.j2", str(folder / "x.txt.j2"), SOURCE) is None
    stored.chmod(0o600)
    assert codecache.load(cache, "x.txt.j2", str(folder / "x.txt.j2"), SOURCE) is not None


def test_a_folder_others_may_write_is_not_used(cache: Path) -> None:
    cache.mkdir(parents=True)
    cache.chmod(0o777)
    assert codecache.folder() is None
    cache.chmod(0o700)
    assert codecache.folder() == cache


def test_a_symlinked_folder_is_not_used(cache: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    cache.parent.mkdir()
    cache.symlink_to(elsewhere)
    assert codecache.folder() is None


def test_no_cache_when_turned_off_or_impossible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write(tmp_path / "templates")
    monkeypatch.setenv("DISTRIBUTOR_CACHE_DIR", "")
    assert codecache.folder() is None
    assert engine.run(fresh_load(folder), VALUES, max_chars=500).startswith(VALUES["title"])
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("DISTRIBUTOR_CACHE_DIR", str(blocked))  # cannot hold a folder
    assert codecache.folder() is None
    assert engine.run(fresh_load(folder), VALUES, max_chars=500).startswith(VALUES["title"])
    engine.clear_cache()


def test_the_default_folder_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISTRIBUTOR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert codecache.folder() == tmp_path / "xdg" / "distributor" / "templates"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert codecache.folder() == tmp_path / "home" / ".cache" / "distributor" / "templates"


def test_a_template_with_an_error_is_not_kept(cache: Path, tmp_path: Path) -> None:
    folder = write(tmp_path / "templates", "{{ title ")
    engine.clear_cache()
    with pytest.raises(TemplateError, match=r"x\.txt\.j2:1"):
        engine.load(folder, "x.txt.j2")
    assert not cache.exists() or not list(cache.iterdir())


def test_old_compilations_are_pruned(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codecache, "MAX_FILES", 8)
    folder = tmp_path / "templates"
    for i in range(9):
        write(folder, f"{{{{ title }}}} {i}")
        fresh_load(folder)
        if i == 0:
            [oldest] = list(cache.iterdir())
            os.utime(oldest, (1, 1))
    left = list(cache.iterdir())
    assert len(left) == 4 and oldest not in left
    assert not [p for p in left if not p.name.endswith(".bin")]  # no temporary files left
