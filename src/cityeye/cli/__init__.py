"""The ``cityeye`` command.

Each sub-command is a thin shell over a library function, so that everything the CLI
does is also callable (and tested) from Python. Long work shows a progress bar on
stderr; results go to stdout or files, so pipes stay clean.

This module makes :data:`app` (the ``cityeye`` entry point, and ``python -m
cityeye``) and registers every command, in the order ``cityeye --help`` lists them.
The commands live by family:

- :mod:`~cityeye.cli.common` — what they share: the consoles, the common options
  (``--db``, ``--scenarios``, ``--lateness``, ``--bus``…), the progress bar, and the
  checks that print a file's problems and exit.
- :mod:`~cityeye.cli.offline` — ``simulate``, ``check``, ``replay``, ``backtest``, ``report``.
- :mod:`~cityeye.cli.live` — ``serve``, ``analysis-process`` (hidden), ``worker``;
  they call :mod:`cityeye.serve`, which puts the running parts together.
- :mod:`~cityeye.cli.catalogue` — ``kinds`` and ``scenarios validate|list``.
- :mod:`~cityeye.cli.world` — ``world validate|load|demo`` and ``db upgrade``.
- :mod:`~cityeye.cli.imports` — ``import hotline``.
- :mod:`~cityeye.cli.accounts` — ``token add|list|revoke`` and ``user …``.
- :mod:`~cityeye.cli.participation` — ``participation demo``.
- :mod:`~cityeye.cli.tasks` — ``tasks import|overdue|stats|export`` (督办).
- :mod:`~cityeye.cli.survey` — ``survey units|create|invite|close|results``.
- :mod:`~cityeye.cli.enterprises` — ``enterprises import|list`` (小河网驿's registry).
- :mod:`~cityeye.cli.assessment` — ``assessment validate|board`` (数字治理赛) and
  ``assess`` (日提醒、周通报、月考核 for cron).

A sub-app's commands are registered where they are defined (``@user_app.command``);
the top-level commands here, so that this list is the one place to see them all.
"""

from __future__ import annotations

import typer

from cityeye.cli import (
    accounts,
    assessment,
    catalogue,
    enterprises,
    imports,
    live,
    offline,
    participation,
    survey,
    tasks,
    world,
)

app = typer.Typer(
    help="城市眼·云共治 cityeye — urban co-governance: "
    "events → early warnings → closed-loop cases.",
    no_args_is_help=True,
    add_completion=False,
)

# --help lists the commands in the order they are registered, then the groups
app.command()(offline.simulate)
app.command()(offline.check)
app.command()(offline.replay)
app.command()(offline.backtest)
app.command()(offline.report)
app.command()(live.serve)
app.command("analysis-process", hidden=True)(live.analysis_process)
app.command()(live.worker)
app.command("kinds")(catalogue.kinds)
app.command()(assessment.assess)

app.add_typer(world.world_app, name="world")
app.add_typer(catalogue.scenarios_app, name="scenarios")
app.add_typer(world.db_app, name="db")
app.add_typer(imports.import_app, name="import")
app.add_typer(accounts.token_app, name="token")
app.add_typer(accounts.user_app, name="user")
app.add_typer(participation.participation_app, name="participation")
app.add_typer(assessment.assessment_app, name="assessment")
app.add_typer(tasks.tasks_app, name="tasks")
app.add_typer(survey.survey_app, name="survey")
app.add_typer(enterprises.enterprises_app, name="enterprises")

__all__ = ["app"]
