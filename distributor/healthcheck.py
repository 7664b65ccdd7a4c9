"""Container health checks: `python -m distributor.healthcheck worker|serve [URL]`.

- `worker`: healthy when a worker on this host (the container's hostname) heart-beats into the
  store within `[alerts] heartbeat_timeout`, so a hung or crashed worker turns unhealthy even
  while its process lives. The configuration comes from the environment (`DISTRIBUTOR_CONFIG`,
  `DISTRIBUTOR_DATABASE_URL`), as for the worker itself.
- `serve`: healthy when `GET URL` (default `http://127.0.0.1:8000/healthz`) answers 200 with
  `"status": "ok"`, i.e. the web service answers and reaches the store.

Exit 0 when healthy; otherwise one line on stderr saying why and exit 1 (what Docker and
compose health checks read). Slim images have no curl: this needs nothing but the package.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import UTC, datetime

from distributor.errors import DistributorError

SERVE_URL = "http://127.0.0.1:8000/healthz"


class Unhealthy(Exception):
    """Why the process is not healthy (one line)."""


def check_worker(host: str | None = None) -> str:
    """The id of a live worker on `host` (default: this host); Unhealthy if there is none."""
    from distributor.config import load_config
    from distributor.status import worker_alive
    from distributor.store import open_store

    host = host or socket.gethostname()
    settings = load_config(
        os.environ.get("DISTRIBUTOR_CONFIG") or None,
        env_file=os.environ.get("DISTRIBUTOR_ENV_FILE") or None,
    )
    timeout = settings.alerts.heartbeat_timeout
    store = open_store(settings.database_url, migrate=False)
    try:
        workers = store.workers()
    finally:
        store.close()
    now = datetime.now(UTC)
    alive = [w["id"] for w in workers if w.get("host") == host and worker_alive(w, now, timeout)]
    if not alive:
        raise Unhealthy(f"no live worker on {host} (heartbeat within {timeout:.0f} s)")
    return str(alive[0])


def check_serve(url: str = SERVE_URL, timeout: float = 5.0) -> str:
    """The store state `url` reports; Unhealthy unless it answers 200 with status ok."""
    from distributor.fetch import LOOPBACK, FetchError, Rules, fetch

    # Through the outbound guard like every request, limited to this container's loopback.
    rules = Rules(LOOPBACK, deadline=timeout, max_bytes=65536, types=("application/json",))
    try:
        body = json.loads(fetch(url, rules).data or b"{}")
    except FetchError as exc:  # refused, timed out, an HTTP error status, not loopback
        raise Unhealthy(f"{url}: {exc}") from None
    except ValueError:
        raise Unhealthy(f"{url}: not a JSON answer") from None
    if body.get("status") != "ok":
        raise Unhealthy(f"{url}: status {body.get('status')!r}")
    return str(body.get("store"))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("worker", "serve") or len(args) > 2:
        print("usage: python -m distributor.healthcheck worker | serve [URL]", file=sys.stderr)
        return 2
    try:
        if args[0] == "worker":
            print(f"worker {check_worker()} alive")
        else:
            print(f"serve ok, store {check_serve(args[1] if len(args) > 1 else SERVE_URL)}")
    except (Unhealthy, DistributorError) as exc:  # their messages never carry secrets
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a driver error may quote the database URL: name only the type
        print(f"unhealthy: {args[0]}: {type(exc).__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
