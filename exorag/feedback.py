"""Thumbs up or down on answers, from the UI and from Slack, kept in one local SQLite file."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from exorag.config import Settings
from exorag.models import Answer

MAX_COMMENT_CHARACTERS = 2_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    channel TEXT NOT NULL,
    question TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    comment TEXT NOT NULL DEFAULT '',
    answer_json TEXT NOT NULL
)
"""


def default_feedback_path(settings: Settings) -> Path:
    return settings.feedback_db or settings.index / "feedback.sqlite3"


class FeedbackStore:
    """Append-only feedback records; safe to share between threads."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as connection:
            connection.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def add(self, question: str, answer: Answer, rating: int, comment: str = "", channel: str = "ui") -> int:
        """Store one rating (+1 or -1) with the answer it rates; returns the record id."""
        if rating not in (-1, 1):
            raise ValueError(f"rating: expected 1 or -1, got {rating!r}")
        # The UI's rating is open to any client of it: a comment of megabytes would fill the index's disk.
        if len(comment or "") > MAX_COMMENT_CHARACTERS:
            raise ValueError(f"comment: {len(comment):,} characters; at most {MAX_COMMENT_CHARACTERS:,}")
        with self._lock, self._connect() as connection:
            cursor = connection.execute(
                "INSERT INTO feedback (created_at, channel, question, rating, comment, answer_json) VALUES (?, ?, ?, ?, ?, ?)",
                (datetime.now(UTC).isoformat(), channel, question, rating, comment or "", answer.model_dump_json()),
            )
            return int(cursor.lastrowid)

    def records(self) -> list[dict]:
        with self._lock, self._connect() as connection:
            rows = connection.execute(
                "SELECT id, created_at, channel, question, rating, comment, answer_json FROM feedback ORDER BY id"
            ).fetchall()
        return [
            {"id": r[0], "created_at": r[1], "channel": r[2], "question": r[3], "rating": r[4], "comment": r[5],
             "answer": json.loads(r[6])}
            for r in rows
        ]

    def export_jsonl(self, out_path: Path) -> int:
        """Write every record as one JSON line; returns how many."""
        records = self.records()
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with out_path.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return len(records)
