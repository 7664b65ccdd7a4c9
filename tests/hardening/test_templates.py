"""Hostile templates are refused or cut off within bounded time and memory, in any thread, and
the rest keeps working: format-string gadgets, amplifying filters, CPU-burning loops, recursion.

(`tests/test_render_templates.py` covers the attribute walks, `|attr` gadgets, mutation, huge
ranges and repetition; these are the gaps found while hardening.)
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

import pytest
from template_probe import stopped_by_a_guard

from distributor.article import Article
from distributor.config import Channel, Settings
from distributor.errors import TemplateError
from distributor.render import clear_cache, render
from distributor.render.guard import RenderTimeout, time_limit

ARTICLE = Article(url="https://news.example/politik/a?id=7", title="Ländergipfel", language="de")
MEMORY_CAP = 64 * 2**20  # bytes any refused gadget may allocate on the way (traced)

GADGETS = {
    "percent width": '{{ "%999999999d" % 1 }}',
    "percent precision": '{{ "%.999999999f" % 1.0 }}',
    "percent star width": '{{ "%*d" % (10**9, 1) }}',
    "format width": '{{ "{:>999999999}".format(1) }}',
    "format nested width": '{{ "{:{}}".format(1, "999999999") }}',
    "format_map width": '{{ "{a:>999999999}".format_map({"a": 1}) }}',
    "attr format width": '{{ ("{:>999999999}"|attr("format"))(1) }}',
    "format filter width": '{{ "%999999999d"|format(1) }}',
    "format filter star": '{{ "%*d"|format(10**9, 1) }}',
    "center": '{{ "x"|center(10**9) }}',
    "indent": '{{ ("x\n" * 1000)|indent(1000) }}',
    "indent by string": '{{ ("x\n" * 1000)|indent("y" * 1000) }}',
    "replace empty": '{{ ("x" * 150000)|replace("", "y" * 150000) }}',
    "join separator": '{{ range(100000)|join("x" * 100000) }}',
    "doubling macro": "{% macro f(s, n) %}{% if n %}{{ f(s ~ s, n - 1) }}{% else %}{{ s|length }}"
    '{% endif %}{% endmacro %}{{ f("x", 40) }}',
    "macro recursion": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "deep nesting": "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
    "nested loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
    "{% endfor %}",
    "nested loops over a list": "{% set r = range(100000)|list %}{% for i in r %}"
    "{% for j in r %}{% endfor %}{% endfor %}",
}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def settings_with(tmp_path: Path, **templates: str) -> Settings:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in templates.items():
        (folder / name).write_text(text, encoding="utf-8")
    return Settings(path=None, channels=(), templates_dir=folder)


def test_jinja_has_the_sandbox_fixes() -> None:
    major, minor, patch = (int(p) for p in version("Jinja2").split(".")[:3])
    assert (major, minor, patch) >= (3, 1, 6)  # CVE-2025-27516 (|attr format bypass)


@pytest.mark.parametrize("source", GADGETS.values(), ids=GADGETS.keys())
def test_gadget_is_refused_in_bounded_time_and_memory(tmp_path: Path, source: str) -> None:
    settings = settings_with(tmp_path, **{"x.txt.j2": "{{ title }} {{ link }}\n" + source})
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError) as info:
            render(ARTICLE, Channel(name="x-main", platform="x"), settings=settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert message.startswith("channel 'x-main': ") and "\n" not in message, message
    assert "x.txt.j2" in message
    assert stopped_by_a_guard(message), message  # refused, or cut off at the time limit
    assert peak < MEMORY_CAP, f"{peak / 2**20:.0f} MiB"


def test_timeout_names_the_limit(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, **{"x.txt.j2": GADGETS["nested loops"] + "{{ link }}"})
    with pytest.raises(TemplateError, match=r"x\.txt\.j2: rendering took longer than 2 s"):
        render(ARTICLE, Channel(name="x-main", platform="x"), settings=settings)


def test_ordinary_formatting_still_works(tmp_path: Path) -> None:
    source = (
        '{{ "%s: %05.1f"|format(title, 3.14159) }} {{ "{} ({})".format(title, 7) }} '
        '{{ "%-8s|" % "ab" }} {{ ("a b c")|replace(" ", "-") }} {{ ["a", "b"]|join(", ") }}'
        ' {{ "x"|center(5) }}| {{ link }}'
    )
    settings = settings_with(tmp_path, **{"x.txt.j2": source})
    text = render(ARTICLE, Channel(name="x-main", platform="x"), settings=settings).text
    assert text.startswith("Ländergipfel: 003.1 Ländergipfel (7) ab      | a-b-c a, b   x  |")


def test_time_limit_works_in_worker_threads_and_leaves_nothing_behind() -> None:
    """The watchdog interrupts a pure-Python loop in a pool thread (signals could not), and a
    withdrawn timeout never surfaces later in that thread."""

    def spin(seconds: float) -> str:
        try:
            with time_limit(0.3):
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    pass
        except RenderTimeout:
            return "stopped"
        return "finished"

    def later() -> str:
        for _ in range(20):  # busy Python code after a limit that did not fire
            time.sleep(0.02)
        return "calm"

    before = threading.active_count()  # other tests' threads may still be winding down
    with ThreadPoolExecutor(2) as pool:
        assert pool.submit(spin, 5).result(timeout=5) == "stopped"
        assert pool.submit(spin, 0.05).result(timeout=5) == "finished"
        assert [pool.submit(later).result(timeout=5) for _ in range(2)] == ["calm", "calm"]
    assert (
        threading.active_count() <= before + 1
    )  # the pool's threads are gone (a watchdog may stay)


def test_lone_renders_do_not_wake_the_idle_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    """A render whose deadline lies after the idle watchdog's next look needs no wake-up (each
    was a thread switch per render: the webhook renders one article at a time); a shorter
    deadline still wakes it and is enforced."""
    from distributor.render import guard

    with time_limit(0.001):  # the watchdog runs, and soon has nothing left to watch
        pass
    time.sleep(0.1)
    lock = guard._watchdog.lock
    woken: list[int] = []

    def notify(n: int = 1) -> None:
        woken.append(n)
        threading.Condition.notify(lock, n)

    monkeypatch.setattr(lock, "notify", notify)
    for _ in range(20):
        with time_limit(guard.IDLE_WAIT * 4):
            pass
    assert woken == []
    with pytest.raises(RenderTimeout), time_limit(guard.IDLE_WAIT / 5):
        end = time.monotonic() + 10
        while time.monotonic() < end:
            pass
    assert woken


def test_hostile_channel_does_not_stop_the_worker(tmp_path: Path) -> None:
    """While one channel's template burns its CPU budget at plan time, a Dispatcher in another
    thread keeps sending; the hostile channel's article is refused with a clear error (planning
    is all-or-nothing per article), and the same article plans fine without that channel."""
    from distributor.dispatch import Dispatcher
    from distributor.planning import publish
    from distributor.store import open_store
    from distributor.store.models import State
    from distributor.testing import FakeAdapter

    settings = Settings(
        path=None,
        channels=(
            Channel(name="good", platform="mastodon"),
            Channel(name="evil", platform="mastodon", template="evil"),
        ),
        templates_dir=settings_with(
            tmp_path, **{"evil.txt.j2": GADGETS["nested loops"] + "{{ link }}"}
        ).templates_dir,
        database_url=f"sqlite:///{tmp_path / 'd.db'}",
    )
    store = open_store(settings.database_url)
    try:
        first = publish(ARTICLE, config=settings, channels=["good"], store=store)
        assert first.errors == []
        fake = FakeAdapter()
        dispatcher = Dispatcher(settings, store, adapter_for=lambda ch: fake, concurrency=1)
        stop = threading.Event()
        worker = threading.Thread(target=dispatcher.run, args=(stop,), kwargs={"poll": 0.05})
        worker.start()
        try:
            other = Article(url="https://news.example/wirtschaft/b", title="Zweite Meldung")
            hostile = publish(other, config=settings, store=store)
            [error] = hostile.errors
            assert "channel 'evil'" in error and "rendering took longer" in error
            assert error.rstrip().endswith("(stopped)")  # cut off by the watchdog, not finished
            assert publish(other, config=settings, channels=["good"], store=store).errors == []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(fake.posts) < 2:
                time.sleep(0.05)
        finally:
            stop.set()
            worker.join(timeout=10)
        page, _ = store.query()
        assert sorted(d.state for d in page) == [State.SENT, State.SENT]
        assert {d.channel for d in page} == {"good"}
    finally:
        store.close()
