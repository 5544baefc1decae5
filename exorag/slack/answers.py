"""The answers the bot has posted, kept so that their buttons (evidence, feedback) still work
after a restart; a button's value is only an id, Slack's 2000-character limit is far too small
for an Answer.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path

from exorag.config import Settings
from exorag.models import Answer

# Buttons on answers older than this say the answer is gone.
KEEP_SECONDS = 90 * 24 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    answer_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_created_at ON answers (created_at);
"""


def default_answers_path(settings: Settings) -> Path:
    return settings.index / "slack_answers.sqlite3"


class AnswerStore:
    """Answers by id in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path, keep_seconds: float = KEEP_SECONDS):
        self.path = path
        self.keep_seconds = keep_seconds
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._lock, self._connect() as connection:
            connection.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def put(self, answer: Answer) -> str:
        """Store ``answer``, forget expired ones, return the new id."""
        answer_id = uuid.uuid4().hex
        now = time.time()
        with self._lock, self._connect() as connection:
            connection.execute("DELETE FROM answers WHERE created_at < ?", (now - self.keep_seconds,))
            connection.execute("INSERT INTO answers (id, created_at, answer_json) VALUES (?, ?, ?)",
                               (answer_id, now, answer.model_dump_json()))
        return answer_id

    def get(self, answer_id: str) -> Answer | None:
        with self._lock, self._connect() as connection:
            row = connection.execute("SELECT answer_json FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return Answer.model_validate_json(row[0]) if row else None
