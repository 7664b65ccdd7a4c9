"""Global options work before or after the command, as the README says."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_helpers import run

from distributor.web.signing import new_secret

ARTICLE = '{"url": "https://news.example/a", "title": "A"}'


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    yield
    for handler in root.handlers:
        if handler not in before[0]:
            handler.close()
    root.handlers[:] = before[0]
    root.setLevel(before[1])


@pytest.fixture
def folder(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("DISTRIBUTOR_WEBHOOK_SECRET", raising=False)
    (in_tmp / "site").mkdir()
    (in_tmp / "site" / "distributor.toml").write_text("[channels]\n", encoding="utf-8")
    (in_tmp / "prod.env").write_text(f"DISTRIBUTOR_WEBHOOK_SECRET={new_secret()}\n", "utf-8")
    (in_tmp / "a.json").write_text(ARTICLE, encoding="utf-8")
    return in_tmp


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
def test_config_and_env_file_before_or_after(
    folder: Path, capsys: pytest.CaptureFixture[str], after: bool
) -> None:
    options = ["--config", "site/distributor.toml", "--env-file", "prod.env"]
    command = ["hook", "sign", "a.json", "--json"]
    code, out, err = run(capsys, *(command + options if after else options + command))
    assert (code, err) == (0, "")
    assert set(json.loads(out)) == {"webhook-id", "webhook-timestamp", "webhook-signature"}


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
def test_log_options_before_or_after(
    folder: Path, capsys: pytest.CaptureFixture[str], restore_root: None, after: bool
) -> None:
    options = ["--log-level", "debug", "--log-format", "json", "--log-file", "run.log"]
    command = ["hook", "secret"]
    code, out, _ = run(capsys, *(command + options if after else options + command))
    assert code == 0 and out.startswith("whsec_")
    assert logging.getLogger().level == logging.DEBUG
    logging.getLogger("distributor.test").debug("placed")
    line = json.loads((folder / "run.log").read_text(encoding="utf-8").splitlines()[-1])
    assert (line["message"], line["level"]) == ("placed", "debug")


def test_a_late_option_is_checked_like_an_early_one(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "hook", "sign", "a.json", "--env-file", "missing.env")
    assert code == 2 and "missing.env: no such .env file" in err
    code, _, err = run(capsys, "log", "--log-level", "loud")
    assert code == 2 and "'loud' is not one of" in err


def test_every_command_loads_and_a_broken_one_is_not_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command whose module fails to import is an error, never silently left off --help."""
    import click

    from distributor.cli import COMMANDS, cli

    ctx = click.Context(cli)
    assert all(isinstance(cli.get_command(ctx, name), click.Command) for name in COMMANDS)
    monkeypatch.setitem(COMMANDS, "broken", "distributor.cli.not_written_yet:broken")
    assert "broken" in cli.list_commands(ctx)
    with pytest.raises(ModuleNotFoundError, match="not_written_yet"):
        cli.get_command(ctx, "broken")


def test_help_lists_every_command_with_its_own_summary_without_importing_it() -> None:
    """`--help` reads SUMMARIES instead of importing every command module (start-up time);
    each summary must still be what the command's docstring says."""
    import subprocess
    import sys

    from distributor.cli import COMMANDS, SUMMARIES, LazyGroup

    assert set(SUMMARIES) == set(COMMANDS)
    for name in COMMANDS:
        command = LazyGroup._load(name)
        assert command is not None
        assert SUMMARIES[name] == command.get_short_help_str(limit=10**6), name
    probe = (
        "import sys; from distributor.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('distributor.')), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "reconcile   Resolve deliveries left `sending`" in done.stdout
    loaded = done.stderr
    for heavy in ("distributor.config", "distributor.store", "distributor.service", "cli.publish"):
        assert heavy not in loaded, loaded


def test_command_help_loads_the_configuration_without_the_article_code() -> None:
    """A command's `--help` (and every command that reads no article: `log`, `worker`) loads
    the configuration, which names size limits and host rules of `distributor.sources` but not
    the article model, the teaser or the preview service (20-40 ms of start-up)."""
    import subprocess
    import sys

    probe = (
        "import sys; from distributor.cli import main\n"
        "for name in ('worker', 'log', 'status', 'publish', 'preview'):\n"
        "    try: main([name, '--help'])\n"
        "    except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('distributor.')), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "--concurrency" in done.stdout, done.stderr
    loaded = done.stderr
    assert "'distributor.config'" in loaded and "'distributor.sources.hosts'" in loaded, loaded
    for heavy in ("'distributor.article'", "'distributor.teaser'", "'distributor.service'"):
        assert heavy not in loaded, loaded


def test_version_names_the_installed_distribution(capsys: pytest.CaptureFixture[str]) -> None:
    """The distribution is `newsroom-distributor`: --version was a traceback under the old name."""
    code, out, err = run(capsys, "--version")
    assert (code, err) == (0, "")
    assert out.startswith("distributor, version ")
