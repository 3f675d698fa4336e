"""督办 task supervision (issue 19 item 5): a district's table of the year's tasks —
项目名称 / 项目内容 / 牵头单位 / 责任单位 / 目前进展情况 — imported, reported on by its
units, watched for deadlines, and circulated again in its own layout.

- :mod:`~cityeye.tasks.table` — reading the table (xlsx, CSV, a document's text) and
  writing its text layout;
- :mod:`~cityeye.domain.tasks` — a task, a report, the completion a text states;
- :mod:`~cityeye.tasks.supervision` — import (units matched to parties), reports,
  overdue tasks, per-unit figures, export.

The rows live in :mod:`cityeye.store.tasks`; the API is :mod:`cityeye.api.tasks`, the
commands ``cityeye tasks …`` (:mod:`cityeye.cli.tasks`); docs/tasks.md.
"""
