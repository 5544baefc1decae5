"""One handle on an index: the Chroma collection and the lexical index kept in step with it."""

from __future__ import annotations

from exorag.config import Settings
from exorag.store.chroma import VectorStore
from exorag.store.lexical import LexicalIndex


def lexical_folder(settings: Settings):
    suffix = f"-{settings.collection}" if settings.collection != "exorag" else ""
    return settings.index / f"lexical{suffix}"


class Index:
    """Dense and lexical search over the same chunks; opens the lexical index saved by the last sync."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.vectors = VectorStore(settings)
        saved = LexicalIndex.load(lexical_folder(settings))
        if saved is None or saved.generation != self.vectors.generation:
            saved = self.rebuild_lexical(self.vectors.generation)
        self.lexical = saved

    def rebuild_lexical(self, generation: str) -> LexicalIndex:
        """Rebuild the lexical index from the collection and save it, stamped with ``generation``."""
        lexical = LexicalIndex.build(self.vectors.all_chunks(), generation, self.vectors.mean_embedding())
        lexical.save(lexical_folder(self.settings))
        self.lexical = lexical
        return lexical
