"""Helpers shared by the CLI commands: loading settings from the group's options, output."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from distributor.config import Settings, load_config


def settings(ctx: click.Context) -> Settings:
    """Load the configuration named by the group options (cached on the context)."""
    root = ctx.find_root()
    obj = root.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = load_config(obj.get("config"), env_file=obj.get("env_file"))
    result: Settings = obj["settings"]
    return result


def print_json(data: Any) -> None:
    """Write `data` as pretty JSON to stdout (UTF-8, umlauts unescaped)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def console() -> Any:
    """A rich console on stdout (imported lazily: rich tables cost start-up time)."""
    from rich.console import Console

    return Console(highlight=False)
