"""`distributor admin`: helpers for setting up the web admin UI (password hashes, secrets)."""

from __future__ import annotations

import sys

import click

from distributor.errors import ConfigError


@click.group()
def admin() -> None:
    """Set up the admin UI: password hashes and the session secret (see docs/admin.md)."""


@admin.command("hash-password")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the password from standard input.")
def hash_password(from_stdin: bool) -> None:
    """Print an argon2 hash of a password for `[admin] users` (the hash goes into .env).

    The password is asked for twice without echo on a terminal; with --stdin, or when standard
    input is not a terminal (a pipe), its first line is the password. It is never printed or
    stored.
    """
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ConfigError("no password on standard input (pipe one line, or run in a terminal)")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise ConfigError("the password must be at least 12 characters")
    from argon2 import PasswordHasher

    click.echo(PasswordHasher().hash(password))


@admin.command("new-secret")
def new_secret() -> None:
    """Print a random value for DISTRIBUTOR_SESSION_SECRET (or an admin token)."""
    import secrets

    click.echo(secrets.token_urlsafe(48))
