"""`brand-monitor web ...`: helpers for the dashboard's `[web]` table."""

from __future__ import annotations

import typer

app = typer.Typer(help="Dashboard helpers ([web] users).", no_args_is_help=True)


@app.command("hash-password")
def hash_password_command() -> None:
    """Ask for a password (twice) and print its argon2 hash for [[web.users]] password_hash."""
    from monitor.web.auth import hash_password

    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise typer.BadParameter("use at least 10 characters", param_hint="password")
    typer.echo(hash_password(password))  # one line, never wrapped: it is pasted into config
