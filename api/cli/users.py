"""`kb users add|list|disable|enable|rotate-key`: accounts and their API keys.

A key is printed once, when it is made, and kept only as a hash: lost, it is replaced with
`rotate-key`, never recovered.
"""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from api.cli.base import Context, cli, json_option, pass_context
from api.cli.terminal import err, out, print_json, print_table
from kb.access import LEVELS, ROLES
from kb.users import User

ONCE = "the API key is shown only this once; keep it safe"


def public(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "clearance": user.clearance,
        "groups": list(user.groups),
        "disabled": user.disabled,
        "created_at": user.created_at,
    }


@cli.group()
def users() -> None:
    """Accounts: who may sign in to the HTTP API, with which role and clearance."""


@users.command(name="add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option(
    "--clearance",
    type=click.Choice(LEVELS),
    default="internal",
    show_default=True,
    help="The highest classification the user may see.",
)
@click.option(
    "--group", "groups", multiple=True, metavar="GROUP", help="A need-to-know group (repeatable)."
)
@json_option
@pass_context
def users_add(
    ctx: Context, name: str, role: str, clearance: str, groups: tuple[str, ...], as_json: bool
) -> None:
    """Add the user NAME and print their new API key (once)."""
    with ctx.users() as accounts:
        user, key = accounts.add(name, role, clearance, groups)
    if as_json:
        # A contract relied on outside the repository: exactly these keys.
        print_json(
            {
                "name": user.name,
                "role": user.role,
                "clearance": user.clearance,
                "groups": list(user.groups),
                "api_key": key,
            }
        )
        return
    err.print(f"added {escape(describe(user))}; {ONCE}:")
    click.echo(key)


@users.command(name="list")
@json_option
@pass_context
def users_list(ctx: Context, as_json: bool) -> None:
    """Every user, with role, clearance and groups (never their keys)."""
    with ctx.users() as accounts:
        found = accounts.list()
    if as_json:
        print_json([public(u) for u in found])
        return
    table = Table("name", "role", "clearance", "groups", "status", "created")
    for u in found:
        table.add_row(
            escape(u.name),
            u.role,
            u.clearance,
            escape(", ".join(u.groups)),
            "disabled" if u.disabled else "active",
            u.created_at,
        )
    print_table(table, whole=("name",))
    out.print(f"{len(found)} users")


@users.command(name="disable")
@click.argument("name")
@json_option
@pass_context
def users_disable(ctx: Context, name: str, as_json: bool) -> None:
    """Stop NAME's key working at once (the account stays, for the audit log)."""
    with ctx.users() as accounts:
        user = accounts.disable(name)
    if as_json:
        print_json(public(user))
    else:
        err.print(f"disabled {escape(name)}")


@users.command(name="enable")
@click.argument("name")
@json_option
@pass_context
def users_enable(ctx: Context, name: str, as_json: bool) -> None:
    """Let a disabled user's key work again."""
    with ctx.users() as accounts:
        user = accounts.enable(name)
    if as_json:
        print_json(public(user))
    else:
        err.print(f"enabled {escape(name)}")


@users.command(name="rotate-key")
@click.argument("name")
@json_option
@pass_context
def users_rotate_key(ctx: Context, name: str, as_json: bool) -> None:
    """Give NAME a new API key (printed once); the old one stops working at once."""
    with ctx.users() as accounts:
        key = accounts.rotate_key(name)
    if as_json:
        print_json({"name": name, "api_key": key})
        return
    err.print(f"new key for {escape(name)}; the old one no longer works; {ONCE}:")
    click.echo(key)


def describe(user: User) -> str:
    groups = f", groups {', '.join(user.groups)}" if user.groups else ""
    return f"{user.name} ({user.role}, cleared for {user.clearance}{groups})"
