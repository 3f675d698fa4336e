"""Notifiers that reach outside the process (the case book only knows the protocol)."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import asdict

from cityeye.cases.notify import Notification


class WebhookNotifier:
    """POSTs each notification as JSON to a URL (a district's messaging service).

    Sent synchronously with a short timeout; a failure raises, so the caller decides
    whether to retry or to record it — nothing is silently dropped."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook URL must be http(s): {url!r}")
        self.url = url
        self.timeout_s = timeout_s

    def send(self, notification: Notification) -> None:
        body = asdict(notification) | {"at": notification.at.isoformat()}
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            if response.status >= 300:
                raise OSError(f"webhook answered {response.status}")
