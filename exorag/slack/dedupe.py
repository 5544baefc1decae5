"""Slack delivers an event again when it thinks the first delivery failed (``X-Slack-Retry-Num``);
each event is answered once, keyed on its event id, remembered for a bounded time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse

logger = logging.getLogger(__name__)


class SeenEvents:
    """A thread-safe set of keys that forgets them after ``ttl_seconds`` or beyond ``max_entries``."""

    def __init__(self, ttl_seconds: float = 3600.0, max_entries: int = 10_000):
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is offered within the time to live; False for a repeat."""
        now = time.monotonic()
        with self._lock:
            # Keys are in the order they came, so the oldest is first.
            while self._seen and (len(self._seen) >= self.max_entries
                                  or next(iter(self._seen.values())) < now - self.ttl_seconds):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


def delivery_key(body: dict) -> str | None:
    """What makes a delivery unique: the event id of an Events API callback, the trigger id of a
    slash command or a button click."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    return None


def skip_repeated_deliveries(seen: SeenEvents) -> Callable[..., BoltResponse | None]:
    """A Bolt global middleware that acknowledges a repeated delivery without running any listener."""

    def middleware(request: BoltRequest, body: dict, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        key = delivery_key(body)
        if key is None or seen.first_time(key):
            return next()
        retry = request.headers.get("x-slack-retry-num", ["0"])[0]
        logger.info("skipped repeated delivery %s (retry %s, reason %s)", key, retry,
                    request.headers.get("x-slack-retry-reason", ["-"])[0])
        return BoltResponse(status=200, body="")

    return middleware
