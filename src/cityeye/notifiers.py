"""Notifiers that reach outside the process (the case book only knows the protocol),
and the outbox's sender (the design: :mod:`cityeye.cases.outbox`).

* :func:`load_notify` — the ``--notify FILE`` of ``cityeye serve``: per party a group
  robot (``dingtalk`` for 钉钉 and 浙政钉, ``wecom`` for 企业微信, or signed
  ``json``), an HTTP SMS gateway, retry limits; every mistake named by field.
* :class:`OutboxSender` — a thread that takes due webhook and SMS rows from the outbox,
  POSTs them with a short timeout and records the outcome: sent, or tried again after
  an exponentially growing delay (capped), or after the last attempt ``failed`` and
  kept. It is the only thing that waits on the network; the engine never does.
* :class:`HttpSmsGateway` — an :class:`~cityeye.cases.notify.SmsGateway` that POSTs
  JSON to a district's own SMS service (no provider assumed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cityeye.cases.notify import SmsGateway
from cityeye.cases.outbox import Channel, Channels
from cityeye.domain import Severity, World
from cityeye.errors import ProblemsError, ServiceError
from cityeye.sourcefile import Duration, SourceError, read_source
from cityeye.store import Store
from cityeye.store.outbox import (
    BELL,
    OutboxRow,
    claim_due,
    mark_failed,
    mark_retry,
    mark_sent,
)
from cityeye.store.users import phone_of

log = logging.getLogger("cityeye.notify")

#: The most of an answer's body read back (enough for an ``errcode``).
ANSWER_BYTES = 64 * 1024
#: 企业微信 refuses markdown content over 4096 bytes.
WECOM_MAX_BYTES = 4096


class DeliveryError(ServiceError, OSError):
    """One attempt did not deliver (the reason is kept on the outbox row; it never
    holds the URL, whose query may carry the robot's token)."""


#: ``post(url, body, headers, timeout_s)`` → (status, answer body).
Poster = Callable[[str, bytes, dict[str, str], float], tuple[int, bytes]]


def http_post(
    url: str, body: bytes, headers: dict[str, str], timeout_s: float
) -> tuple[int, bytes]:
    """POST and read the answer; no answer at all raises :class:`DeliveryError`."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status), response.read(ANSWER_BYTES)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), exc.read(ANSWER_BYTES)
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DeliveryError(f"no answer: {reason}") from None


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉's 加签: HMAC-SHA256 of ``"timestamp\\nsecret"`` keyed by the secret, base64,
    URL-encoded (sent as ``&timestamp=…&sign=…``)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return urllib.parse.quote_plus(base64.b64encode(digest.digest()))


def signed_json(
    body: dict[str, Any], secret: str | None, now: datetime
) -> tuple[bytes, dict[str, str]]:
    """A JSON body with ``X-Cityeye-Timestamp`` and, with a secret,
    ``X-Cityeye-Signature: sha256=<hex HMAC of the body>`` (the body carries the same
    timestamp, so the signature covers it)."""
    stamp = str(int(now.timestamp()))
    data = json.dumps(body | {"timestamp": int(stamp)}, ensure_ascii=False).encode()
    headers = {"content-type": "application/json; charset=utf-8", "x-cityeye-timestamp": stamp}
    if secret:
        headers["x-cityeye-signature"] = f"sha256={hmac_hex(secret, data)}"
    return data, headers


# ---------------------------------------------------------------------- robots
Format = Literal["dingtalk", "wecom", "json"]


def markdown(payload: dict[str, Any], base_url: str | None, *, case: bool = True) -> str:
    """The message as the robots' markdown: title, words, a case's grade, and a link
    (to the case, or to what a routine notice is about) when the service's address is
    known."""
    lines = [f"#### {payload['title']}", "", str(payload["text"])]
    if case:
        try:
            grade = Severity(payload.get("severity", "")).zh
        except ValueError:
            grade = str(payload.get("severity", ""))
        lines += ["", f"> 等级：{grade}"]
    if base_url and payload.get("url"):
        link = "打开案件 Open the case" if case else "查看 Open"
        lines += ["", f"[{link}]({base_url}{payload['url']})"]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Webhook:
    """One party's group robot."""

    format: Format
    url: str
    secret: str | None = None

    def request(
        self, row: OutboxRow, now: datetime, base_url: str | None
    ) -> tuple[str, bytes, dict[str, str]]:
        """(url, body, headers) of one delivery, signed for ``now``."""
        p = row.payload
        text = markdown(p, base_url, case=row.case_id is not None)
        headers = {"content-type": "application/json; charset=utf-8"}
        if self.format == "dingtalk":
            body = {"msgtype": "markdown", "markdown": {"title": p["title"], "text": text}}
            url = self.url
            if self.secret:
                stamp = int(now.timestamp() * 1000)
                joiner = "&" if "?" in url else "?"
                url += f"{joiner}timestamp={stamp}&sign={dingtalk_sign(self.secret, stamp)}"
            return url, json.dumps(body, ensure_ascii=False).encode(), headers
        if self.format == "wecom":
            content = text.encode()[:WECOM_MAX_BYTES].decode(errors="ignore")
            body = {"msgtype": "markdown", "markdown": {"content": content}}
            return self.url, json.dumps(body, ensure_ascii=False).encode(), headers
        plain = {"id": row.seq, "kind": row.kind, "case_id": row.case_id} | p
        data, headers = signed_json(plain, self.secret, now)
        return self.url, data, headers

    def check(self, status: int, answer: bytes) -> None:
        """Raise :class:`DeliveryError` unless the answer says delivered: a 2xx, and
        for the robots an ``errcode`` of 0 (they answer 200 to a bad signature)."""
        if not 200 <= status < 300:
            raise DeliveryError(f"HTTP {status}")
        if self.format == "json":
            return
        try:
            said = json.loads(answer or b"{}")
        except ValueError:
            raise DeliveryError(f"HTTP {status} with an answer that is not JSON") from None
        code = said.get("errcode", 0) if isinstance(said, dict) else 0
        if code != 0:
            raise DeliveryError(f"errcode {code}: {str(said.get('errmsg', ''))[:200]}")


class HttpSmsGateway:
    """An :class:`~cityeye.cases.notify.SmsGateway` over HTTP: POSTs
    ``{"phone": …, "text": …}`` as JSON (signed like the JSON webhook when a secret
    is set) to the district's own SMS service; anything but a 2xx raises."""

    def __init__(
        self,
        url: str,
        secret: str | None = None,
        timeout_s: float = 5.0,
        *,
        post: Poster = http_post,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.url, self.secret, self.timeout_s = url, secret, timeout_s
        self.post, self.now = post, now

    def send_sms(self, phone: str, text: str) -> None:
        data, headers = signed_json({"phone": phone, "text": text}, self.secret, self.now())
        status, _ = self.post(self.url, data, headers, self.timeout_s)
        if not 200 <= status < 300:
            raise DeliveryError(f"SMS gateway answered HTTP {status}")


# ---------------------------------------------------------------------- configuration
@dataclass(frozen=True, slots=True)
class Retry:
    """Attempt ``n`` (1, 2, …) that fails is tried again after ``base_s · 2^(n-1)``,
    at most ``cap_s``; after ``attempts`` attempts the row is ``failed``."""

    base_s: float = 10.0
    cap_s: float = 3600.0
    attempts: int = 8

    def delay(self, attempt: int) -> timedelta:
        return timedelta(seconds=min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """What ``--notify FILE`` says (nothing: the desk only)."""

    webhooks: dict[str, Webhook] = field(default_factory=dict)
    sms: SmsGateway | None = None
    base_url: str | None = None
    timeout_s: float = 5.0
    retry: Retry = Retry()

    @property
    def channels(self) -> Channels:
        return Channels(frozenset(self.webhooks), self.sms is not None)


class NotifyError(ProblemsError):
    """The notify file has problems; ``problems`` lists every one (a
    :class:`~cityeye.errors.ProblemsError`)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _WebhookSpec(_Strict):
    format: Format
    url: str = Field(min_length=1, max_length=2000)
    secret: str | None = Field(default=None, min_length=1, max_length=500)


class _PartySpec(_Strict):
    webhook: _WebhookSpec


class _SmsSpec(_Strict):
    url: str = Field(min_length=1, max_length=2000)
    secret: str | None = Field(default=None, min_length=1, max_length=500)


class _RetrySpec(_Strict):
    base: Duration = 10.0
    cap: Duration = 3600.0
    attempts: int = Field(default=8, ge=1, le=100)


class _NotifyFile(_Strict):
    base_url: str | None = None
    timeout: Duration = 5.0
    parties: dict[str, _PartySpec] = Field(default_factory=dict)
    sms: _SmsSpec | None = None
    retry: _RetrySpec = Field(default_factory=_RetrySpec)


def _is_http(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def load_notify(path: Path, world: World | None = None) -> NotifyConfig:
    """Read and check a notify file; :class:`NotifyError` names every field at fault
    (``file:line: parties.P1.webhook.url: …``). With ``world``, each party must be
    one of its parties."""
    try:
        doc = read_source(path)
    except SourceError as exc:
        raise NotifyError(exc.source, exc.problems) from None
    problems = list(doc.problems)
    data = doc.data if doc.data is not None else {}
    try:
        spec = _NotifyFile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "is not a notify setting (base_url, timeout, parties, sms, retry)"
            elif err["type"] == "literal_error":
                message = f"must be dingtalk, wecom or json (got {err['input']!r})"
            problems.append(doc.problem(tuple(err["loc"]), message))
        raise NotifyError(doc.source, problems) from None
    if spec.base_url is not None and not _is_http(spec.base_url):
        problems.append(doc.problem(("base_url",), "must be an http:// or https:// address"))
    webhooks: dict[str, Webhook] = {}
    for party, item in spec.parties.items():
        at: tuple[str, ...] = ("parties", party)
        if world is not None and party not in world.parties:
            problems.append(doc.problem(at, f"no party {party!r} in the loaded world"))
        hook = item.webhook
        if not _is_http(hook.url):
            problems.append(doc.problem((*at, "webhook", "url"), "must be an http(s) URL"))
        if hook.format == "wecom" and hook.secret is not None:
            problems.append(
                doc.problem(
                    (*at, "webhook", "secret"),
                    "企业微信 robots are not signed: the key in the URL is the secret; remove it",
                )
            )
        webhooks[party] = Webhook(hook.format, hook.url, hook.secret)
    sms: SmsGateway | None = None
    if spec.sms is not None:
        if not _is_http(spec.sms.url):
            problems.append(doc.problem(("sms", "url"), "must be an http(s) URL"))
        sms = HttpSmsGateway(spec.sms.url, spec.sms.secret, spec.timeout)
    if spec.retry.cap < spec.retry.base:
        problems.append(doc.problem(("retry", "cap"), "must not be shorter than retry.base"))
    if problems:
        raise NotifyError(doc.source, problems)
    return NotifyConfig(
        webhooks,
        sms,
        spec.base_url.rstrip("/") if spec.base_url else None,
        spec.timeout,
        Retry(spec.retry.base, spec.retry.cap, spec.retry.attempts),
    )


# ---------------------------------------------------------------------- the sender
class OutboxSender:
    """Delivers the outbox's webhook and SMS rows, one at a time, on its own thread.

    :meth:`run_once` is one pass (the tests call it with their own clock ``now``);
    :meth:`start` runs passes until :meth:`stop`, woken when this process commits
    new rows and otherwise every ``poll_s`` (rows written by another process, rows
    whose retry has come due)."""

    def __init__(
        self,
        store: Store,
        config: NotifyConfig,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        post: Poster = http_post,
        batch: int = 50,
        poll_s: float = 1.0,
    ) -> None:
        self.store, self.config, self.now, self.post = store, config, now, post
        self.batch, self.poll_s = batch, poll_s
        #: A claimed row is left alone this long (a sender that died mid-send).
        self.lease = timedelta(seconds=2 * config.timeout_s + 30)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = self.retried = self.failed = 0

    def run_once(self) -> int:
        """Try every row due now (up to ``batch``); returns how many were tried."""
        rows = claim_due(self.store, self.now(), self.batch, self.lease)
        for row in rows:
            try:
                self.deliver(row)
            except Exception as exc:  # any failure is one failed attempt, never the end
                self._failed(row, exc)
            else:
                mark_sent(self.store, row.seq, self.now())
                self.sent += 1
        return len(rows)

    def deliver(self, row: OutboxRow) -> None:
        """One attempt at one row; raises when it was not delivered."""
        if row.channel == Channel.WEBHOOK.value:
            hook = self.config.webhooks.get(row.party_id or "")
            if hook is None:
                raise DeliveryError(f"no webhook configured for party {row.party_id}")
            url, body, headers = hook.request(row, self.now(), self.config.base_url)
            status, answer = self.post(url, body, headers, self.config.timeout_s)
            hook.check(status, answer)
        elif row.channel == Channel.SMS.value:
            if self.config.sms is None:
                raise DeliveryError("no SMS gateway configured")
            phone = phone_of(self.store, row.user_id) if row.user_id else None
            if not phone:
                raise DeliveryError(f"user {row.user_id} has no phone")
            self.config.sms.send_sms(phone, self.sms_text(row))
        else:
            raise DeliveryError(f"channel {row.channel!r} is not sent")

    def sms_text(self, row: OutboxRow) -> str:
        p = row.payload
        link = f" {self.config.base_url}{p['url']}" if self.config.base_url else ""
        return f"【城市眼】{p['title']}：{p['text']}{link}"

    def _failed(self, row: OutboxRow, exc: Exception) -> None:
        reason = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
        if row.attempts >= self.config.retry.attempts:
            mark_failed(self.store, row.seq, reason)
            self.failed += 1
            log.warning("notification %s (%s) failed for good: %s", row.seq, row.channel, reason)
        else:
            mark_retry(
                self.store, row.seq, self.now() + self.config.retry.delay(row.attempts), reason
            )
            self.retried += 1

    # ------------------------------------------------------------------ thread
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cityeye-notify", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            seen = BELL.generation
            tried = 0
            try:
                tried = self.run_once()
            except Exception:  # the database away for a moment: try again later
                log.exception("sending notifications failed; trying again in %s s", self.poll_s)
            if tried < self.batch and not self._stop.is_set():
                BELL.wait_blocking(seen, self.poll_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the row in hand (a delivery is bounded by the timeout)."""
        self._stop.set()
        BELL.ring()
        if self._thread is not None:
            self._thread.join(timeout_s)
