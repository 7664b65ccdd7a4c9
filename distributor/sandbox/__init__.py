"""A local, loopback-only emulation of the platform APIs `distributor` posts to.

`Sandbox` runs every platform emulator on one HTTP server (in-process for tests, or standalone
with `distributor sandbox`); faults and limits make every failure class reproducible.
"""

from __future__ import annotations

from distributor.sandbox.core import EMULATORS, Sandbox, SandboxState, check_loopback
from distributor.sandbox.emulator import (
    BadRequest,
    Emulator,
    Post,
    Reply,
    Request,
    Route,
    UploadedFile,
)
from distributor.sandbox.faults import FaultRule, Faults, parse_fault

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
]
