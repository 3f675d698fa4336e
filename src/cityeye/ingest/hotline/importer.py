"""The import itself: every row of a sheet stored and analysed, or rejected by number.

:func:`import_sheet` feeds the accepted events to an intake in time order, in batches,
and dead-letters the rejected rows; :func:`write_errors` and :func:`print_summary` give
the operator the result. The command ``cityeye import hotline`` is these three calls
after :func:`~cityeye.ingest.hotline.mapping.load_mapping` and
:func:`~cityeye.ingest.hotline.sheet.read_sheet`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from rich.console import Console
from rich.table import Table

from cityeye.domain import Event, FieldError
from cityeye.ingest.decode import shorten
from cityeye.ingest.hotline.mapping import HotlineMapping
from cityeye.ingest.hotline.rows import Rejection, RowReader
from cityeye.ingest.hotline.sheet import Sheet
from cityeye.store import DeadLetter

if TYPE_CHECKING:
    from cityeye.ingest.intake import Intake

#: Dead-letter channel of imported tickets.
CHANNEL = "hotline"
#: Rows stored and analysed per transaction.
BATCH = 500

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class ImportResult:
    """What became of every row of one export."""

    file: str
    #: Non-blank data rows read.
    rows: int = 0
    blank: int = 0
    accepted: int = 0
    duplicate: int = 0
    #: Accepted events older than the engine's clock: stored, but they can raise no
    #: alert (see docs/ingest.md).
    late: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    #: Accepted rows with something cut (a text over :data:`.rows.MAX_TEXT_CHARS`).
    warnings: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every row was accepted or already there, 1 when some were rejected."""
        return 1 if self.rejected else 0


def import_sheet(
    sheet: Sheet,
    mapping: HotlineMapping,
    pipeline: Intake,
    *,
    ref: str,
    progress: Progress | None = None,
    batch: int = BATCH,
    now: datetime | None = None,
) -> ImportResult:
    """Turn every row into an event or a rejection; store and analyse the events in time
    order, ``batch`` per transaction; dead-letter the rejected rows (``ref:row N``)."""
    now = now or datetime.now(UTC)
    reader = RowReader(mapping, sheet.header, pipeline.world, now)
    result = ImportResult(file=ref, rows=len(sheet.rows), blank=sheet.blank)
    total = len(sheet.rows)
    good: list[tuple[int, Event]] = []
    dead: list[DeadLetter] = []
    where = ref if len(ref) <= 200 else "…" + ref[-199:]
    for row, cells in sheet.rows:
        try:
            if row in sheet.broken:
                raise FieldError("(row)", sheet.broken[row])
            good.append((row, reader.event(cells, row)))
        except FieldError as exc:
            rejection = Rejection(row, exc.field[:128], exc.reason, reader.ticket_id(cells))
            result.rejected.append(rejection)
            payload = orjson.dumps(reader.redacted(cells))
            dead.append(
                DeadLetter(
                    now,
                    CHANNEL,
                    f"{where}:row {row}",
                    rejection.field,
                    rejection.reason,
                    shorten(payload),
                    payload,
                )
            )
    rejected_rows = {r.row for r in result.rejected}
    result.warnings = [w for w in reader.warnings if w.row not in rejected_rows]
    for start in range(0, len(dead), batch):
        pipeline.store.add_dead_letters(dead[start : start + batch])
    done = len(result.rejected)
    if progress is not None:
        progress(done, total)
    # time order: an export listed newest first must not look late to the engine
    good.sort(key=lambda item: (item[1].ts, item[0]))
    # a live intake: the engine's clock is never behind the wall clock (less the
    # lateness), so tickets from yesterday arrive late — and, as reports stay
    # actionable (raise_late), become cases whose deadlines start now
    pipeline.tick(now)
    for start in range(0, len(good), batch):
        chunk = good[start : start + batch]
        events = [e for _, e in chunk]
        late = {(e.source, e.id) for e in events if pipeline.is_late(e)}
        results = pipeline.ingest(events, indexes=[row for row, _ in chunk])
        marked = []
        for item, event in zip(results, events, strict=True):
            if item.status == "accepted":
                result.accepted += 1
                if (event.source, event.id) in late:
                    marked.append((event.source, event.id))
            else:
                result.duplicate += 1
        if marked:
            result.late += pipeline.store.mark_late(marked)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    if good:
        pipeline.snapshot()
    result.rejected.sort(key=lambda r: r.row)
    if len(pipeline.world.areas) <= 1:
        result.notes.append(
            "no world is loaded (cityeye world load): areas were not checked and the "
            "cases have no one to route to / 未加载世界文件，区域未校验，工单无法派发"
        )
    if result.late:
        result.notes.append(
            f"{result.late} tickets were older than the live engine's clock: their cases "
            "start now, each keeping when it was reported / 早于引擎时钟（补录）：已立案，"
            "时限自导入时起算，保留原反映时间"
        )
    return result


def write_errors(rejections: Sequence[Rejection], path: Path) -> None:
    """All rejections as CSV (``row,id,field,reason``) for the operator to fix, in
    UTF-8 with a BOM so that Excel shows the Chinese; cells that Excel would read as a
    formula are prefixed with ``'``."""
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["row", "id", "field", "reason"])
        for r in rejections:
            writer.writerow([r.row, *(_safe(v) for v in (r.id or "", r.field, r.reason))])


def _safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def print_summary(
    result: ImportResult, console: Console, *, limit: int = 20, errors_file: Path | None = None
) -> None:
    """The counts as a table, then the first ``limit`` rejections as
    ``FILE:row N: column: reason`` lines, warnings and notes."""
    table = Table(title=f"12345 热线导入 hotline import: {result.file}", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("rows 行", justify="right")
    table.add_row("accepted 已接收", str(result.accepted))
    table.add_row("duplicate 重复（已导入）", str(result.duplicate))
    table.add_row(
        "rejected 拒收", str(len(result.rejected)), style="red" if result.rejected else None
    )
    if result.blank:
        table.add_row("blank, skipped 空行", str(result.blank))
    console.print(table)
    for r in result.rejected[:limit]:
        ticket = f" [{r.id}]" if r.id else ""
        console.print(
            f"{result.file}:row {r.row}{ticket}: {r.field}: {r.reason}",
            markup=False,
            highlight=False,
        )
    more = len(result.rejected) - limit
    if errors_file is not None and result.rejected:
        console.print(f"→ all {len(result.rejected)} rejected rows 拒收行: {errors_file}")
    elif more > 0:
        console.print(f"… and {more} more rejected rows; --errors FILE.csv writes them all")
    for w in result.warnings[:limit]:
        console.print(
            f"{result.file}:row {w.row}: {w.field}: {w.reason} (accepted)",
            markup=False,
            highlight=False,
        )
    for note in result.notes:
        console.print(f"note 注意: {note}", markup=False, highlight=False)
