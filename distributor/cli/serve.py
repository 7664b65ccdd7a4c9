"""`distributor serve` (the web app under uvicorn) and `distributor hook` (sign, send, secret).

    distributor serve --host 0.0.0.0 --port 8000 --workers 2
    distributor hook secret                              # a new whsec_... for .env
    distributor hook sign article.json                   # the three headers to send
    distributor hook sign --curl https://bot.example/hooks/articles article.json
    distributor hook send https://bot.example/hooks/articles article.json

`hook` signs the exact bytes of FILE (or stdin) with the first secret set among
`[webhook] secrets_env` (or `--secret-env VAR`), so a CMS or CI job needs nothing but this
command or curl. Signing never needs the web extra.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from distributor.cli.common import echo, print_json, settings
from distributor.errors import ArticleError, ConfigError

APP_FACTORY = "distributor.cli.serve:app_from_environment"
EXIT_REFUSED = 1  # `hook send`: the server answered, but not 2xx


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--database", metavar="URL", help="Store URL (default: config `database`).")
@click.option(
    "--grace",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0, 600),
    help="Seconds in-flight requests get to finish on SIGTERM.",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    envvar="DISTRIBUTOR_FORWARDED_ALLOW_IPS",
    help="Comma-separated addresses/networks of your reverse proxies: only their "
    "X-Forwarded-For/-Proto count (default: none, the peer address is the client).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    database: str | None,
    grace: float,
    forwarded_allow_ips: str | None,
) -> None:
    """Serve the signed webhook, /healthz, /metrics and the admin UI (extra `web`)."""
    from distributor.cli.publish import _info_logs

    uvicorn = _web_extra()
    _info_logs(ctx)
    _warn_if_exposed(host)
    _check_port_free(host, port)
    if database:
        os.environ["DISTRIBUTOR_DATABASE_URL"] = database  # reaches worker processes too
        ctx.find_root().ensure_object(dict).pop("settings", None)
    conf = settings(ctx)
    from distributor.web.server import server_options

    options = server_options(host, port, grace=grace, forwarded_allow_ips=forwarded_allow_ips)
    if workers == 1:
        from distributor.web.app import create_app

        app = _settled(create_app(conf), conf)
        click.echo(f"serving on http://{host}:{port} (Ctrl-C or SIGTERM stops)", err=True)
        _run(uvicorn, app, **options)
        return
    _export_config(ctx)
    with _shared_metrics():
        create_app_check(conf)
        click.echo(f"serving on http://{host}:{port} with {workers} workers", err=True)
        _run(uvicorn, APP_FACTORY, factory=True, workers=workers, **options)


# The web extra's modules (pyproject's `web`) by import name, each with the older name it may
# have: with any one missing, `serve` would start and then fail with a traceback where the app
# first needs it.
WEB_EXTRA = (
    ("fastapi",),
    ("uvicorn",),
    ("httptools",),  # uvicorn's C HTTP parser, which `serve` runs on (web/server.py)
    ("python_multipart", "multipart"),  # python-multipart before 0.0.13 had only `multipart`
    ("itsdangerous",),
    ("argon2",),
    ("prometheus_client",),
    ("babel",),
)


def _web_extra() -> Any:
    """uvicorn, once every module of the web extra imports; a one-line error naming the missing."""
    missing = [names[0] for names in WEB_EXTRA if not any(_imports(n) for n in names)]
    if missing:
        raise ConfigError(
            f"`distributor serve` needs the web extra (missing: {', '.join(missing)}): "
            "pip install 'newsroom-distributor[web]'"
        )
    import uvicorn

    return uvicorn


def _imports(name: str) -> bool:
    import importlib

    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def _shared_metrics() -> Iterator[None]:
    """prometheus_client's multiprocess mode for the worker processes: each writes its webhook
    counts to a fresh folder (PROMETHEUS_MULTIPROC_DIR, inherited) and a scrape of any of them
    sums all, so counters never go down. A folder the operator set is used as it is."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="distributor-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    try:
        yield
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)


def _run(uvicorn: Any, app: Any, *, workers: int = 1, **options: Any) -> None:
    """uvicorn's server with `distributor.signals`' stop: the first SIGTERM/Ctrl-C lets the
    requests in flight finish (at most --grace), a second one exits at once with 130."""
    from distributor.signals import StopSignals

    config = uvicorn.Config(app, workers=workers, **options)
    finishing = "finishing requests in flight"
    if workers == 1:
        server = uvicorn.Server(config)
        server.capture_signals = contextlib.nullcontext  # the signals are ours, not uvicorn's
        with StopSignals(finishing=finishing, on_stop=lambda: setattr(server, "should_exit", True)):
            server.run()
        if not server.started:  # uvicorn's own exit (3) would read as our store-failure code
            raise ConfigError("the server did not start (see the lines above)")
        return
    from uvicorn.supervisors import Multiprocess

    supervisor = Multiprocess(config, sockets=[config.bind_socket()])

    def kill_workers() -> None:
        for process in supervisor.processes:
            process.kill()

    # Installed after the supervisor's own handlers (its __init__), so these replace them.
    with StopSignals(
        finishing=finishing, on_stop=supervisor.should_exit.set, on_force=kill_workers
    ):
        supervisor.run()  # each worker process stops gracefully on the SIGTERM it is sent


def _warn_if_exposed(host: str) -> None:
    """Say so when the webhook and /admin/ will be reachable from other machines."""
    import ipaddress

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        loopback = False
    if not loopback:
        click.echo(
            f"warning: --host {host} exposes the webhook, /metrics and /admin/ beyond this "
            "machine; keep 127.0.0.1 behind a TLS reverse proxy unless you mean it",
            err=True,
        )


def _check_port_free(host: str, port: int) -> None:
    """ConfigError (exit 2, one line) before "serving on…" if the address cannot be bound.

    uvicorn would log a traceback-like error and exit 3, which is the store-failure code."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"--host {host} --port {port}: cannot listen: {reason.lower()} "
            "(another service on that port? choose another --port)"
        ) from None


def create_app_check(conf: Any) -> None:
    """Fail in the parent, with one line, before worker processes would each fail alike."""
    from distributor.web.app import create_app

    app = create_app(conf)
    app.state.web.store.close()


def _export_config(ctx: click.Context) -> None:
    """What worker processes (spawned, they see only the environment) must know."""
    obj = ctx.find_root().ensure_object(dict)
    if obj.get("config"):
        os.environ["DISTRIBUTOR_CONFIG"] = str(Path(obj["config"]).resolve())
    if obj.get("env_file"):
        os.environ["DISTRIBUTOR_ENV_FILE"] = str(Path(obj["env_file"]).resolve())
    os.environ["DISTRIBUTOR_LOG_LEVEL"] = obj.get("log_level") or "INFO"
    for key, var in (
        ("log_format", "DISTRIBUTOR_LOG_FORMAT"),
        ("log_file", "DISTRIBUTOR_LOG_FILE"),
    ):
        if obj.get(key):
            os.environ[var] = obj[key]


def app_from_environment() -> Any:
    """The app in each `--workers` process: config named by DISTRIBUTOR_CONFIG/_ENV_FILE."""
    from distributor import logs
    from distributor.config import load_config
    from distributor.web.app import create_app

    logs.setup(
        os.environ.get("DISTRIBUTOR_LOG_LEVEL"),
        os.environ.get("DISTRIBUTOR_LOG_FORMAT"),
        logfile=os.environ.get("DISTRIBUTOR_LOG_FILE"),
    )
    conf = load_config(
        os.environ.get("DISTRIBUTOR_CONFIG") or None,
        env_file=os.environ.get("DISTRIBUTOR_ENV_FILE") or None,
    )
    return _settled(create_app(conf), conf)


def _settled(app: Any, conf: Any) -> Any:
    """`app`, with this process's heap settled (distributor.heap) after rendering a sample
    article for every channel (the first webhook's imports and template compiles, done now),
    the GIL handed on sooner (web/server.py), and SQLite's checkpoints off the webhook writer's
    commits (store/checkpoint.py)."""
    from distributor import heap
    from distributor.web.server import share_gil

    heap.settle(lambda: warm_up(conf))
    share_gil()
    app.state.web.store.checkpoint_in_background()
    return app


def warm_up(conf: Any) -> list[Any]:
    """A preview of a made-up article on every channel (no network, no store)."""
    from distributor.article import Article
    from distributor.service import preview

    sample = Article(url="https://example.com/warm-up", title="Warm-up", teaser="Warm-up.")
    return preview(sample, config=conf)


@click.group()
def hook() -> None:
    """Sign and send webhook requests the way `distributor serve` checks them."""


@hook.command()
def secret() -> None:
    """Print a new webhook secret (whsec_...) for DISTRIBUTOR_WEBHOOK_SECRET."""
    from distributor.web.signing import new_secret

    click.echo(new_secret())


def _secret_option(command: Any) -> Any:
    return click.option(
        "--secret-env",
        metavar="VAR",
        help="Variable holding the secret (default: the first set of [webhook] secrets_env).",
    )(command)


@hook.command()
@click.argument("file", metavar="FILE|-")
@_secret_option
@click.option("--id", "msg_id", metavar="ID", help="webhook-id (default: a random msg_...).")
@click.option("--curl", "curl_url", metavar="URL", help="Print a ready curl command for URL.")
@click.option("--json", "as_json", is_flag=True, help="Print the headers as JSON.")
@click.pass_context
def sign(
    ctx: click.Context,
    file: str,
    secret_env: str | None,
    msg_id: str | None,
    curl_url: str | None,
    as_json: bool,
) -> None:
    """Print the webhook-id, webhook-timestamp and webhook-signature headers for FILE."""
    from distributor.web.signing import sign_headers

    body = _body(file)
    headers = sign_headers(_key(ctx, secret_env), body, msg_id=msg_id)
    if curl_url:
        click.echo(_curl(curl_url, headers, file, body))
    elif as_json:
        print_json(headers)
    else:
        for name, value in headers.items():
            click.echo(f"{name}: {value}")


@hook.command()
@click.argument("url")
@click.argument("file", metavar="FILE|-")
@_secret_option
@click.option("--id", "msg_id", metavar="ID", help="webhook-id (default: a random msg_...).")
@click.option(
    "--retries",
    default=3,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Resend (same id: never planned twice) after a network error or 5xx.",
)
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(1, 600))
@click.pass_context
def send(
    ctx: click.Context,
    url: str,
    file: str,
    secret_env: str | None,
    msg_id: str | None,
    retries: int,
    timeout: float,
) -> None:
    """Sign FILE and POST it to URL; print the answer; exit 0 only for 2xx.

    A network error or a 5xx is tried again (same webhook-id); a URL that cannot work is
    refused at once (exit 2)."""
    from distributor.web.signing import new_id, sign_headers

    _check_url(url)
    body = _body(file)
    key = _key(ctx, secret_env)
    msg_id = msg_id or new_id()  # one id for every resend: the server plans it once
    for attempt in range(retries + 1):
        headers = sign_headers(key, body, msg_id=msg_id)  # fresh timestamp per try
        status, text = _post(url, body, headers, timeout)
        if status is not None and status < 500:
            break
        if attempt < retries:
            echo(f"{text}; trying again ({attempt + 1}/{retries})", err=True)
            time.sleep(min(2.0**attempt, 30.0))
    echo(text)
    if status is None or not 200 <= status < 300:
        ctx.exit(EXIT_REFUSED)


def _check_url(url: str) -> None:
    """ConfigError unless `url` is an http(s) URL with a host (no retries of a typo)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or IPv6 literal
        ok = False
    if not ok:
        raise ConfigError(f"{url!r}: not an http(s) URL (e.g. https://bot.example/hooks/articles)")


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
    from distributor.fetch import FetchError, send

    try:
        status, text = send(
            url, body, {**headers, "Content-Type": "application/json"}, deadline=timeout
        )
    except FetchError as exc:
        if not exc.retry:  # the URL itself is wrong: trying again won't help
            raise ConfigError(f"{url}: {exc}") from None
        return None, f"{url}: {exc}"
    return status, f"HTTP {status} {text}"


def _body(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(file).read_bytes()
    except OSError as exc:
        raise ArticleError(f"{file}: cannot read ({exc.strerror or exc})") from None


def _key(ctx: click.Context, secret_env: str | None) -> bytes:
    from distributor.web.hook_settings import hook_settings
    from distributor.web.signing import parse_secret

    conf = settings(ctx)
    if secret_env:
        value = conf.env.get(secret_env, "").strip()
        if not value:
            raise ConfigError(
                f"--secret-env {secret_env}: environment variable is not set "
                f"({conf.env_source.where()})"
            )
        return parse_secret(value, secret_env)
    hooks = hook_settings(conf)
    if not hooks.keys:
        raise ConfigError(
            f"no webhook secret: set {' or '.join(hooks.names)} (or --secret-env) "
            f"({conf.env_source.where()})"
        )
    return hooks.keys[0]


def _curl(url: str, headers: dict[str, str], file: str, body: bytes) -> str:
    """A curl command sending exactly the signed bytes (FILE by name, stdin inline)."""
    if file != "-":
        data = "@" + file
    else:
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ArticleError("<stdin>: not UTF-8; save it to a file and sign that") from None
        if data.startswith("@"):  # curl would read a file of that name
            raise ArticleError("<stdin>: starts with @; save it to a file and sign that")
    parts = ["curl", "--fail-with-body", "-sS", "-X", "POST", url]
    parts += ["-H", "Content-Type: application/json"]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", data]
    return shlex.join(parts)
