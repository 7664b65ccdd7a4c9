"""Every outbound HTTP request goes through `distributor.fetch` (issue 13 finding 1).

A scan of the package's imports: an HTTP client (requests, urllib3, httpx, aiohttp, urllib.request,
http.client, a raw socket connection) may only be used by the guard module itself, by platform
adapters (they talk to their configured API base only; article images go through the guard,
see tests/e2e/test_image_guard.py), by the sandbox (a loopback server) and by alert delivery
(Apprise, to the operator's configured targets). Anything else that fetches must use the guard.
"""

from __future__ import annotations

import ast
from pathlib import Path

import distributor

PACKAGE = Path(distributor.__file__).parent
CLIENTS = ("requests", "urllib3", "httpx", "aiohttp", "urllib.request", "http.client", "apprise")
ALLOWED = (
    "fetch.py",  # the guard
    "platforms/",  # adapters: their configured API base only
    "sandbox/",  # the platform emulators (a loopback server)
    "alerts/notify.py",  # Apprise, to the operator's configured alert targets
)
SOCKET_CALLS = ("create_connection", "connect", "connect_ex")


def _client_uses(tree: ast.AST) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Attribute) and node.attr in SOCKET_CALLS:
            names = [f"socket.{node.attr}"] if _on_socket(node.value) else []
        found += [
            f"line {node.lineno}: {n}"
            for n in names
            if n.startswith("socket.") or any(n == c or n.startswith(c + ".") for c in CLIENTS)
        ]
    return found


def _on_socket(value: ast.expr) -> bool:
    return isinstance(value, ast.Name) and value.id in ("socket", "sock", "s")


def scan(root: Path) -> dict[str, list[str]]:
    """Module (relative path) -> its outbound HTTP uses, outside the allowed modules."""
    out: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(ALLOWED):
            continue
        uses = _client_uses(ast.parse(path.read_text(encoding="utf-8")))
        if uses:
            out[rel] = uses
    return out


def test_no_outbound_http_outside_the_guard() -> None:
    assert scan(PACKAGE) == {}, "use distributor.fetch for outbound requests"


def test_the_scan_sees_each_kind_of_client(tmp_path: Path) -> None:
    (tmp_path / "sneaky.py").write_text(
        "import requests\nfrom urllib.request import urlopen\nimport http.client as h\n"
        "def f():\n    import httpx\n    socket.create_connection(('x', 80))\n",
        encoding="utf-8",
    )
    (tmp_path / "fetch.py").write_text("import requests\n", encoding="utf-8")
    assert scan(tmp_path) == {
        "sneaky.py": [
            "line 1: requests",
            "line 2: urllib.request",
            "line 3: http.client",
            "line 5: httpx",
            "line 6: socket.create_connection",
        ]
    }
