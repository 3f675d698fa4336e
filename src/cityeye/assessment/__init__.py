"""数字治理赛 · the digital-governance contest: its rules as data (:mod:`.rules`) and
the scores, ranks and board computed from the KPI counters (:mod:`.scoring`)."""

from cityeye.assessment.rules import (
    AssessmentError,
    Rules,
    default_rules,
    load_rules,
    parse_rules,
)
from cityeye.assessment.scoring import Board, Period, board, parse_period

__all__ = [
    "AssessmentError",
    "Board",
    "Period",
    "Rules",
    "board",
    "default_rules",
    "load_rules",
    "parse_period",
    "parse_rules",
]
