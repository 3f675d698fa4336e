"""``cityeye assessment``: check a contest rules file, and print a board for any round
from a database (the same figures as ``GET /api/v1/assessment/board``: reproducible
from the KPI counters, so a month can be looked at again a year on)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from cityeye.assessment.rules import AssessmentError, Rules, default_rules, load_rules
from cityeye.cli.common import DbOption, err, out, print_problems
from cityeye.store import DEFAULT_URL

assessment_app = typer.Typer(help="数字治理赛 Contest: rules files and ranking boards.")

#: ``cityeye serve --assessment FILE`` and the commands here.
AssessmentOption = Annotated[
    Path | None,
    typer.Option(
        "--assessment",
        envvar="CITYEYE_ASSESSMENT",
        exists=True,
        dir_okay=False,
        metavar="FILE",
        help="YAML: the contest's rules (数字治理赛考核细则: KPIs, weights, targets, "
        "deductions, period, who is ranked); default the packaged rules "
        "(docs/assessment.md).",
    ),
]


def rules_or_exit(path: Path | None) -> Rules:
    """The rules of ``path`` (every problem printed with its line, exit 1), else the
    packaged ones."""
    if path is None:
        return default_rules()
    try:
        return load_rules(path)
    except AssessmentError as exc:
        print_problems(exc)
        found = len(exc.problems)
        err.print(f"[red]✗ {found} problem(s) in the assessment file / 考核细则有误[/red]")
        raise typer.Exit(1) from None


@assessment_app.command("validate")
def validate(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a rules file and report every problem with its line and path."""
    rules = rules_or_exit(file)
    kpis = ", ".join(f"{t.kpi} {t.weight:g}" for t in rules.kpis)
    out.print(f"[green]✓[/green] {file}: {rules.name}, per {rules.period}; {kpis}")


@assessment_app.command("board")
def show_board(
    period: Annotated[str, typer.Option(help="2026-10, 2026-Q4 or 2026.")],
    db: DbOption = DEFAULT_URL,
    level: Annotated[str, typer.Option(help="street, community or party.")] = "street",
    area: Annotated[str | None, typer.Option(help="Rank the units inside this area.")] = None,
    rules_file: AssessmentOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON.")] = False,
) -> None:
    """Print the board of one round: rank, score, status and each term's points."""
    from cityeye.api.presenters import board_json
    from cityeye.assessment.scoring import board, parse_period
    from cityeye.assessment.source import KpiSource, module_scenarios
    from cityeye.domain import FieldError, World
    from cityeye.scenarios import load_catalogue
    from cityeye.store import Store

    rules = rules_or_exit(rules_file)
    store = Store.open(db)
    try:
        world = store.load_world() or World.empty()
        try:
            source = KpiSource(store, world, module_scenarios(load_catalogue()))
            found = board(rules, source, world, level, parse_period(period), area)
        except FieldError as exc:
            raise typer.BadParameter(exc.reason, param_hint=f"--{exc.field}") from None
    finally:
        store.close()
    shown = board_json(found, world, None)
    if as_json:
        out.print_json(orjson.dumps(shown).decode())
        return
    out.print(f"{rules.name} {found.period.label} · {shown['area_name']}")
    for row in shown["rows"]:
        terms = "  ".join(f"{t['kpi']} {t['points']:g}/{t['weight']:g}" for t in row["terms"])
        off = sum(i["points"] for i in row["deductions"])
        place = row["rank"] if row["rank"] is not None else "-"
        out.print(
            f"{place:>3} {row['name']}  {row['score']:g}  [{row['status']}]  {terms}  ({off:g})",
            markup=False,
        )
