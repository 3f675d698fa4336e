"""月考核 · publishing a contest round's result.

When a round (a month, by the packaged rules) has ended, its result is published once:
the district-wide board of every level the rules rank, frozen as the board's JSON
(:mod:`cityeye.store.results`). From then on that is the result of the round — what the
office circulates, what ``/api/v1/assessment/results/{period}`` and its documents give —
however a late correction may change the live board afterwards. The scheduler calls
:func:`publish_round` the first time it runs after a round has ended; calling it again
publishes nothing new.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from cityeye.api.presenters import board_json
from cityeye.assessment.rules import Rules
from cityeye.assessment.scoring import Period, board
from cityeye.assessment.source import KpiSource, module_scenarios
from cityeye.domain import FieldError, World
from cityeye.domain.dates import local_date
from cityeye.scenarios import load_catalogue
from cityeye.store import Store
from cityeye.store.results import DISTRICT, Published, find_results, publish_result


def publish_round(
    store: Store,
    world: World,
    rules: Rules,
    period: Period,
    now: datetime,
    *,
    modules: Mapping[str, Collection[str]] | None = None,
) -> list[Published]:
    """Freeze the district-wide board of each level in ``rules.ranks`` for ``period``
    (idempotent: a level already published keeps its result; a level where no unit is
    ranked — nothing counted, e.g. a round before the platform ran — is not published)
    and return the round's published results, one per level; those published by this call have
    ``published_at == now``. ``modules``: each module's scenarios, for a term about one
    module (default: the built-in catalogue's).

    A round that has not ended by ``now`` (the district's local day) is refused
    (:class:`FieldError` naming ``period``): its board would freeze half a round."""
    if local_date(now, world.timezone) <= period.last:
        raise FieldError("period", f"{period.label} has not ended yet (it ends {period.last})")
    source = KpiSource(store, world, modules or module_scenarios(load_catalogue()))
    for level in rules.ranks:
        found = board(rules, source, world, level, period)
        if not any(score.rank is not None for score in found.rows):
            continue  # no unit had anything counted: a round before the platform ran
        publish_result(
            store,
            period=period.label,
            level=level,
            area=DISTRICT,
            contest=rules.name,
            # the district's time zone travels with it: the documents print local times
            board=board_json(found, world, None) | {"timezone": world.timezone},
            now=now,
        )
    return [
        r
        for r in find_results(store)
        if r.period == period.label and r.area == DISTRICT and r.level in rules.ranks
    ]
