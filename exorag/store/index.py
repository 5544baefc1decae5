"""One handle on an index: the Chroma collection and the lexical index kept in step with it."""

from __future__ import annotations

import logging
from pathlib import Path

from filelock import FileLock, Timeout

from exorag.config import Settings
from exorag.store.chroma import VectorStore
from exorag.store.lexical import LexicalIndex

log = logging.getLogger(__name__)


def lexical_folder(settings: Settings) -> Path:
    suffix = f"-{settings.collection}" if settings.collection != "exorag" else ""
    return settings.index / f"lexical{suffix}"


def ingest_lock(settings: Settings) -> FileLock:
    """The lock an ingest holds on the index for its whole run (non-blocking: check ``Timeout``)."""
    settings.index.mkdir(parents=True, exist_ok=True)
    return FileLock(str(settings.index / ".ingest.lock"), timeout=0)


class Index:
    """Dense and lexical search over the same chunks; opens the lexical index saved by the last sync.

    A reader that finds the saved lexical index stale rebuilds it and saves it only while holding
    the ingest lock; during an ingest it builds its own copy in memory and saves nothing, so a
    reader never writes over what the ingest is writing. ``rebuild=False`` (the ingest itself)
    takes the saved index as it is.
    """

    def __init__(self, settings: Settings, rebuild: bool = True):
        self.settings = settings
        self.vectors = VectorStore(settings)
        saved = LexicalIndex.load(lexical_folder(settings))
        if rebuild and (saved is None or saved.generation != self.vectors.generation):
            saved = self._rebuild_as_reader()
        self.lexical = saved or LexicalIndex.build([], "")

    def _rebuild_as_reader(self) -> LexicalIndex:
        try:
            with ingest_lock(self.settings):
                saved = LexicalIndex.load(lexical_folder(self.settings))  # another reader may have just saved it
                if saved is not None and saved.generation == self.vectors.generation:
                    return saved
                lexical = self._build_lexical(self.vectors.generation)
                try:
                    lexical.save(lexical_folder(self.settings))
                except OSError as error:  # a full or read-only disk: a reader needs nothing saved to answer
                    log.warning("%s: the rebuilt lexical index could not be saved (%s); using it from memory",
                                self.settings.index, error)
                return lexical
        except (Timeout, OSError):  # an ingest holds the lock, or the lock file cannot be made (read-only)
            return self._build_lexical(self.vectors.generation)

    def _build_lexical(self, generation: str) -> LexicalIndex:
        return LexicalIndex.build(self.vectors.all_chunks(), generation, self.vectors.mean_embedding())

    def rebuild_lexical(self, generation: str) -> LexicalIndex:
        """Rebuild the lexical index from the collection and save it, stamped with ``generation``
        (the caller holds the ingest lock)."""
        lexical = self._build_lexical(generation)
        lexical.save(lexical_folder(self.settings))
        self.lexical = lexical
        return lexical
