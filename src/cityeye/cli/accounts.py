"""Who may send and who may sign in: ``cityeye token`` (ingest tokens) and
``cityeye user`` (people, their roles and what they see)."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from cityeye.cli.common import DbOption, err, out
from cityeye.domain import World
from cityeye.domain.errors import FieldError
from cityeye.store import DEFAULT_URL, Store

token_app = typer.Typer(help="接入令牌 Ingest tokens: per device or integration, hashed at rest.")
user_app = typer.Typer(help="用户 Users: people who sign in, with a role and the areas they see.")


@token_app.command("add")
def token_add(
    label: Annotated[str, typer.Option(help="Who holds it: '3号楼烟感网关', 'Open311 app'.")],
    device: Annotated[
        str | None, typer.Option(help="Only events of this device may be sent with it.")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Only events of this source may be sent with it.")
    ] = None,
    area: Annotated[
        str | None,
        typer.Option(help="Only events in this area (a street, a community) or below it."),
    ] = None,
    db: DbOption = DEFAULT_URL,
) -> None:
    """Make an ingest token. The secret is printed once and never stored. No ingest
    token may send a person's case move (docs/security.md)."""
    from cityeye.api.tokens import issue

    store = Store.open(db)
    world = store.load_world()
    if device is not None and world is not None and device not in world.devices:
        err.print(f"[red]✗ --device {device}: no such device in the loaded world[/red]")
        raise typer.Exit(2)
    if area is not None and (world is None or area not in world.areas):
        err.print(f"[red]✗ --area {area}: no such area in the loaded world[/red]")
        raise typer.Exit(2)
    issued = issue(store, label=label, device_id=device, source=source, area=area)
    err.print(f"token {issued.token.id} for {label} — keep the secret; it is not shown again:")
    out.print(issued.secret, markup=False, highlight=False)


@token_app.command("list")
def token_list(db: DbOption = DEFAULT_URL) -> None:
    """Ingest tokens (never their secrets)."""
    table = Table("label", "device", "source", "area", "created", "last used", "revoked")
    table.add_column("id", no_wrap=True)
    for tok in Store.open(db).api_tokens():
        table.add_row(
            tok.label,
            tok.device_id or "*",
            tok.source or "*",
            tok.area or "*",
            f"{tok.created_at:%Y-%m-%d %H:%M}",
            f"{tok.last_used_at:%Y-%m-%d %H:%M}" if tok.last_used_at else "",
            f"{tok.revoked_at:%Y-%m-%d %H:%M}" if tok.revoked_at else "",
            tok.id,
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: str, db: DbOption = DEFAULT_URL) -> None:
    """Revoke a token at once (a lost or stolen device)."""
    if not Store.open(db).revoke_api_token(token_id, datetime.now(UTC)):
        err.print(f"[red]✗ no active token {token_id}[/red]")
        raise typer.Exit(1)
    err.print(f"token {token_id} revoked")


UsernameArg = Annotated[str, typer.Argument(help="The login name.")]
PasswordStdinOption = Annotated[
    bool, typer.Option(help="Read the password from stdin (scripts) instead of asking.")
]


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option(help="admin, dispatcher, handler, leader or resident.")],
    party: Annotated[
        str | None, typer.Option(help="A handler's party (its areas bound what they see).")
    ] = None,
    area: Annotated[
        list[str] | None,
        typer.Option(help="A dispatcher's or leader's post: an area code (repeatable)."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="The name shown, e.g. 张网格员.")] = None,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = DEFAULT_URL,
) -> None:
    """Add a user; the password is asked for (twice) or read from stdin, and stored
    only as an argon2 hash."""
    from cityeye.accounts import create_user

    password = _new_password(password_stdin)
    store = Store.open(db)
    world = store.load_world() or World.empty()
    user = _account(
        lambda: create_user(
            store,
            world,
            username=username,
            password=password,
            role=role,
            display_name=name,
            party_id=party,
            areas=tuple(area or ()),
        )
    )
    err.print(f"user {user.username} ({user.role.label}) added")


@user_app.command("demo")
def user_demo(db: DbOption = DEFAULT_URL) -> None:
    """One user per role for the demo district, with fresh passwords, printed once."""
    from cityeye.demo.users import demo_users

    store = Store.open(db)
    world = store.load_world()
    if world is None:
        err.print("[red]✗ no district in this database (cityeye world load / replay)[/red]")
        raise typer.Exit(2)
    table = Table("username", "password", "role", "sees", title="demo logins 演示账号")
    for user, password in demo_users(store, world):
        sees = user.party_id or " ".join(user.areas) or ("all" if user.role == "admin" else "")
        table.add_row(user.username, password, user.role.label, sees)
    out.print(table)


def _account(do: Any, *args: Any) -> Any:
    """Run an account change; a ``FieldError`` (no such user, a short password) is
    printed and exits 2."""
    try:
        return do(*args)
    except FieldError as exc:
        err.print(f"[red]✗ {exc.field}: {exc.reason}[/red]", highlight=False)
        raise typer.Exit(2) from None


def _new_password(from_stdin: bool) -> str:
    """A new password: one line of stdin (scripts), or asked for twice, hidden."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password 密码", hide_input=True, confirmation_prompt=True))


@user_app.command("password")
def user_password(
    username: UsernameArg,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = DEFAULT_URL,
) -> None:
    """Set a new password (a reset); every session, API token and known device of the
    user is revoked with it."""
    from cityeye.accounts import change_password

    password = _new_password(password_stdin)
    revoked = _account(change_password, Store.open(db), username, password)
    err.print(f"user {username}: new password; {revoked} tokens revoked")


@user_app.command("disable")
def user_disable(username: UsernameArg, db: DbOption = DEFAULT_URL) -> None:
    """Disable a user: they cannot sign in, and every session and token of theirs
    stops working now (open sessions included)."""
    from cityeye.accounts import disable_user

    revoked = _account(disable_user, Store.open(db), username)
    err.print(f"user {username} disabled; {revoked} tokens revoked")


@user_app.command("enable")
def user_enable(username: UsernameArg, db: DbOption = DEFAULT_URL) -> None:
    """Let a disabled user sign in again (revoked tokens stay revoked)."""
    from cityeye.accounts import enable_user

    _account(enable_user, Store.open(db), username)
    err.print(f"user {username} enabled")


@user_app.command("revoke")
def user_revoke(username: UsernameArg, db: DbOption = DEFAULT_URL) -> None:
    """Revoke every session, API token and known device of a user, keeping the account
    (they sign in again), e.g. after a lost phone."""
    from cityeye.accounts import revoke_user

    revoked = _account(revoke_user, Store.open(db), username)
    err.print(f"user {username}: {revoked} tokens revoked")


@user_app.command("phone")
def user_phone(
    username: UsernameArg,
    phone: Annotated[
        str | None, typer.Argument(help="The mobile number; leave out to remove it.")
    ] = None,
    db: DbOption = DEFAULT_URL,
) -> None:
    """Where SMS notifications reach this user (with an SMS gateway in --notify)."""
    from cityeye.store.users import set_phone, user_with_hash

    store = Store.open(db)
    found = user_with_hash(store, username)
    if found is None:
        err.print(f"[red]✗ username: no user {username!r}[/red]", highlight=False)
        raise typer.Exit(2)
    number = phone.strip() if phone else None
    if number is not None and not re.fullmatch(r"\+?[0-9][0-9 -]{4,30}", number):
        err.print(f"[red]✗ phone: {number!r} is not a phone number[/red]", highlight=False)
        raise typer.Exit(2)
    set_phone(store, found[0].id, number)
    err.print(f"user {username}: " + (f"SMS to {number}" if number else "no SMS"))


@user_app.command("list")
def user_list(db: DbOption = DEFAULT_URL) -> None:
    """Users, their roles and what bounds what they see (never passwords)."""
    from cityeye.store.users import list_users

    table = Table("username", "name", "role", "party", "areas", "disabled")
    for u in list_users(Store.open(db)):
        table.add_row(
            u.username,
            u.display_name,
            u.role.value,
            u.party_id or "",
            " ".join(u.areas),
            u.disabled_at.isoformat() if u.disabled_at else "",
        )
    out.print(table)
