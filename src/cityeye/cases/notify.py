"""Telling people what happened to their case (反馈): a notification record and a
pluggable way to send it.

The case book decides *when* to notify (the case was handled, it was closed and may be
rated); a :class:`Notifier` decides *how*. In a replay that is :class:`ListNotifier`
(written to ``notifications.jsonl``). Nothing on the network is ever called from the
book: the live service tells people through the durable outbox and its sender thread
(:mod:`cityeye.cases.outbox`, :mod:`cityeye.notifiers`), so a failing channel can
neither block nor break the engine. :class:`SmsGateway` is what a district's SMS
service must offer that sender (no provider is assumed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cityeye.domain import CaseState


@dataclass(frozen=True, slots=True)
class Notification:
    case_id: str
    to: str
    kind: str  # handled | closed
    text: str
    at: datetime


def reporter_text(case_id: str, state: CaseState, note: str = "") -> str | None:
    """反馈: what the reporter reads when their case was handled (with the handler's
    note) or closed (and may be rated); ``None`` for any other state. One wording for
    every channel (the book's notifier, the desk, the outbox)."""
    if state == CaseState.HANDLED:
        return f"您反映的问题（{case_id}）已处置：{note or '已处理'}。"
    if state == CaseState.CLOSED:
        return f"您反映的问题（{case_id}）已结案，欢迎评价（1–5 星）。"
    return None


class Notifier(Protocol):
    def send(self, notification: Notification) -> None: ...


class ListNotifier:
    """Keeps what it was asked to send (replay writes it to notifications.jsonl)."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


class SmsGateway(Protocol):
    """What a district's SMS provider must offer."""

    def send_sms(self, phone: str, text: str) -> None: ...
