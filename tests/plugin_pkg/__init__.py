"""A platform published by a plugin, as a third party would write one: "pigeon".

One `PlatformSpec` row (`SPEC`, named by the entry point `distributor.platforms: pigeon =
plugin_pkg:SPEC`), an adapter (`plugin_pkg.adapter`) and a sandbox emulator (`plugin_pkg.emulator`).
No template: the packaged `default.txt.j2` renders it. tests/test_platform_plugin.py installs the
entry point and posts through it end to end.
"""

from __future__ import annotations

from distributor.platform import Limits, PlatformSpec

SPEC = PlatformSpec(
    "pigeon",
    adapter="plugin_pkg.adapter:PigeonAdapter",
    limits=Limits(500),
    counter="distributor.limits:graphemes",
    base_url="https://api.pigeon.invalid",
    required_options=("loft",),
    credentials=("token",),
    requires_image=True,
    emulator="plugin_pkg.emulator:PigeonEmulator",
    example="POST /v1/pigeons",
    docs="tests/plugin_pkg/__init__.py",
)
