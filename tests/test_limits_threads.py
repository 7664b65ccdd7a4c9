"""The first counts from several threads at once (a threaded worker, the web server) all succeed."""

from __future__ import annotations

import subprocess
import sys

# Runs in a fresh interpreter: the race is in the lazy first import of twitter_text.
SCRIPT = """
import threading
from distributor import limits
errors = []
def count(platform):
    try:
        limits.length(platform, "Hallo https://example.com/x und mehr")
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=count, args=(p,)) for p in ["x", "mastodon"] * 8]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(errors), errors[:1])
"""


def test_concurrent_first_counts_do_not_race_on_the_lazy_import() -> None:
    for _ in range(6):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr[-1000:]
        assert done.stdout.startswith("0 "), done.stdout


def test_twitter_text_loads_without_pkg_resources_and_leaves_no_stand_in() -> None:
    script = (
        "import sys\n"
        "from distributor import limits\n"
        "n = limits.length('x', 'Mehr: https://www.tagesschau.de/inland/a.html 🇩🇪')\n"
        "print(n, 'pkg_resources' in sys.modules)\n"
    )
    argv = [sys.executable, "-c", script]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-1000:]
    assert done.stdout.split() == ["32", "False"]
