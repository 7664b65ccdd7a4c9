"""Chaos soak for `distributor`: `python -m chaos --minutes 5` (or `make chaos MINUTES=5`).

Worker processes (`distributor worker`) publish a stream of articles to every platform of an
in-process sandbox that injects random faults (5xx, HTML 502 pages, 429 bursts, hangs past the
read timeout, connection resets, "created but the answer was lost", latency), while a supervisor
SIGKILLs random workers and restarts them and reconcile runs now and then. Then the faults stop,
reconcile and a worker settle what is left, and the invariants are checked (`chaos.checks`):
at most one post per (article, channel), nothing lost, every delivery final or `unknown` and
listed by `audit`, the store's integrity check clean. SQLite always; PostgreSQL with `--pg`
(`DISTRIBUTOR_TEST_PG_URL`, or a private throw-away cluster started with `.ci/postgres.sh`).
"""
