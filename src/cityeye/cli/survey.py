"""``cityeye survey``: the annual 社会评价 from the command line — create a survey,
make its one-time links, invite the verified residents, close it, print or export
its results (docs/survey.md). Each command calls :mod:`cityeye.survey.service`, so the
rules are the API's; ``--as`` names the staff account it acts as (default: the
installation's operator, an admin)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cityeye.cli.common import DbOption, err, out
from cityeye.domain import World, parse_ts
from cityeye.domain.users import User, UserRole
from cityeye.errors import CityeyeError
from cityeye.store import DEFAULT_URL, Store

survey_app = typer.Typer(
    help="社会评价 Unit evaluation: annual surveys of streets and departments."
)

AsOption = Annotated[
    str | None,
    typer.Option("--as", help="The staff account to act as (default: the operator, an admin)."),
]
#: Who the command line is when no ``--as`` is given: whoever runs it holds the database.
OPERATOR = User("cli", "cli", "命令行 operator", UserRole.ADMIN)


def _open(db: str, who: str | None) -> tuple[Store, World, User]:
    from cityeye.accounts import find_user

    store = Store.open(db)
    world = store.load_world()
    if world is None:
        store.close()
        err.print("[red]✗ no district in this database (cityeye world load)[/red]")
        raise typer.Exit(2)
    try:
        user = OPERATOR if who is None else find_user(store, who)
    except CityeyeError as exc:
        store.close()
        err.print(f"[red]✗ {exc}[/red]")
        raise typer.Exit(2) from None
    return store, world, user


def _fail(exc: CityeyeError) -> typer.Exit:
    err.print(f"[red]✗ {exc}[/red]")
    return typer.Exit(1)


@survey_app.command("units")
def units(db: DbOption = DEFAULT_URL) -> None:
    """What a survey may rate: the district's streets and departments (their keys)."""
    from cityeye.survey.service import units_of

    store, world, _ = _open(db, None)
    store.close()
    for u in units_of(world):
        out.print(f"{u.key}\t{u.name}")


@survey_app.command("create")
def create(
    title: Annotated[str, typer.Option(help="e.g. 2026 年度社会评价")],
    year: Annotated[int, typer.Option(help="The year evaluated.")],
    opens: Annotated[str, typer.Option(help="ISO-8601 with offset, e.g. 2026-12-01T00:00+08:00")],
    closes: Annotated[str, typer.Option(help="ISO-8601 with offset; after --opens")],
    unit: Annotated[
        list[str] | None,
        typer.Option(help="A unit key (cityeye survey units); repeat; default every one."),
    ] = None,
    db: DbOption = DEFAULT_URL,
    who: AsOption = None,
) -> None:
    """Create a survey; prints its id."""
    from cityeye.survey import service

    store, world, user = _open(db, who)
    try:
        made = service.create_survey(
            store,
            world,
            user,
            title=title,
            year=year,
            opens_at=parse_ts(opens, "--opens"),
            closes_at=parse_ts(closes, "--closes"),
            now=datetime.now(UTC),
            units=unit or None,
        )
    except CityeyeError as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    out.print(made.id)


@survey_app.command("invite")
def invite(
    survey: Annotated[str, typer.Argument(help="The survey's id.")],
    links: Annotated[int, typer.Option(min=0, help="How many one-time links to make.")] = 0,
    residents: Annotated[bool, typer.Option(help="Invite the verified residents.")] = False,
    area: Annotated[str | None, typer.Option(help="Only residents living in this area.")] = None,
    base_url: Annotated[
        str, typer.Option(help="The server's address, put before each link's path.")
    ] = "",
    db: DbOption = DEFAULT_URL,
    who: AsOption = None,
) -> None:
    """Make one-time links (printed one a line on stdout: the only copies) and/or
    invite the verified residents by account."""
    from cityeye.survey import service

    store, world, user = _open(db, who)
    try:
        now = datetime.now(UTC)
        tokens = service.invite_links(store, world, user, survey, links, now) if links else []
        added = service.invite_residents(store, world, user, survey, area, now) if residents else 0
    except CityeyeError as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    for token in tokens:
        print(f"{base_url.rstrip('/')}/survey/{token}")
    err.print(f"{len(tokens)} links 链接, {added} residents invited 居民已邀请")


@survey_app.command("close")
def close(
    survey: Annotated[str, typer.Argument(help="The survey's id.")],
    db: DbOption = DEFAULT_URL,
    who: AsOption = None,
) -> None:
    """Stop taking responses now."""
    from cityeye.survey import service

    store, world, user = _open(db, who)
    try:
        service.close(store, world, user, survey, datetime.now(UTC))
    except CityeyeError as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    err.print(f"{survey} closed 已结束")


@survey_app.command("results")
def results(
    survey: Annotated[str, typer.Argument(help="The survey's id.")],
    xlsx: Annotated[
        Path | None, typer.Option(dir_okay=False, help="Write the workbook for the office.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
    db: DbOption = DEFAULT_URL,
    who: AsOption = None,
) -> None:
    """Each unit's responses, mean and 95 % t interval (and comments in --json/--xlsx)."""
    from cityeye.api.presenters import survey_results_json
    from cityeye.survey import service

    store, world, user = _open(db, who)
    try:
        found = service.results(store, world, user, survey)
    except CityeyeError as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    if xlsx is not None:
        service.write_xlsx(found, xlsx)
        err.print(f"wrote {xlsx}")
    if as_json:
        print(json.dumps(survey_results_json(found), ensure_ascii=False, indent=2))
        return
    table = Table(
        "单位 unit", "评价数 n", "平均分 mean", "95% 区间 interval",
        title=f"{found.survey.title} · {found.answered}/{found.invited} answered 已答",
    )  # fmt: skip
    for r in found.units:
        s = r.score
        interval = "—" if s.low is None or s.high is None else f"{s.low:.2f}–{s.high:.2f}"
        table.add_row(r.unit.name, str(s.n), "—" if s.mean is None else f"{s.mean:.2f}", interval)
    out.print(table)
