"""A local, loopback-only emulation of the platform APIs `distributor` posts to.

`Sandbox` runs every platform emulator on one HTTP server (in-process for tests, or standalone
with `distributor sandbox`); faults and limits make every failure class reproducible. Names load
on first use, so `import distributor.sandbox` costs nothing until something is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "EMULATORS": "distributor.sandbox.core",
    "Sandbox": "distributor.sandbox.core",
    "SandboxState": "distributor.sandbox.state",
    "check_loopback": "distributor.sandbox.core",
    "BadRequest": "distributor.sandbox.emulator",
    "Emulator": "distributor.sandbox.emulator",
    "Post": "distributor.sandbox.emulator",
    "Reply": "distributor.sandbox.emulator",
    "Request": "distributor.sandbox.emulator",
    "Route": "distributor.sandbox.emulator",
    "UploadedFile": "distributor.sandbox.emulator",
    "FaultRule": "distributor.sandbox.faults",
    "Faults": "distributor.sandbox.faults",
    "parse_fault": "distributor.sandbox.faults",
    "parse_limit": "distributor.sandbox.faults",
}
__all__ = [
    "EMULATORS",
    "BadRequest",
    "Emulator",
    "FaultRule",
    "Faults",
    "Post",
    "Reply",
    "Request",
    "Route",
    "Sandbox",
    "SandboxState",
    "UploadedFile",
    "check_loopback",
    "parse_fault",
    "parse_limit",
]

if TYPE_CHECKING:
    from distributor.sandbox.core import EMULATORS, Sandbox, check_loopback
    from distributor.sandbox.emulator import (
        BadRequest,
        Emulator,
        Post,
        Reply,
        Request,
        Route,
        UploadedFile,
    )
    from distributor.sandbox.faults import FaultRule, Faults, parse_fault, parse_limit
    from distributor.sandbox.state import SandboxState


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'distributor.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
