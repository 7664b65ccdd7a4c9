"""Which `.env` file a command reads, and how a "secret is not set" error says where it looked.

The rule a newcomer guesses: `--env-file FILE` if given (it must exist), else `.env` next to the
configuration file, else `.env` in the working folder. Exactly one file is read (never a merge,
never a walk up parent folders); the real environment wins over it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from distributor.errors import ConfigError


@dataclass(frozen=True)
class EnvSource:
    """The `.env` file that was read (if any) and every place that was looked at."""

    read: Path | None = None
    looked: tuple[Path, ...] = ()

    def where(self) -> str:
        """`looked in the environment and /srv/.env` (or where no `.env` file was found)."""
        if self.read is not None:
            return f"looked in the environment and {self.read}"
        if not self.looked:
            return "looked in the environment only"
        places = " or ".join(str(p) for p in self.looked)
        return f"looked in the environment; no .env file at {places}"


def find_env_file(config: Path, env_file: str | Path | None) -> EnvSource:
    """`--env-file`, else `.env` beside the config, else `./.env` (the first that exists)."""
    if env_file is not None:
        path = Path(env_file)
        if not path.is_file():
            raise ConfigError(f"{env_file}: no such .env file (given by --env-file)")
        return EnvSource(path.absolute(), (path.absolute(),))
    looked: list[Path] = []
    for candidate in (config.parent / ".env", Path(".env")):
        path = candidate.absolute()
        if path in looked:
            continue
        looked.append(path)
        if path.is_file():
            return EnvSource(path, tuple(looked))
    return EnvSource(None, tuple(looked))


def load_env(path: Path | None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment merged over `.env` at `path` (the real environment wins)."""
    merged: dict[str, str] = {}
    if path is not None and path.is_file():
        from dotenv import dotenv_values

        merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    return merged
