"""Named pipelines: one answer path (``exorag.chain``) put together from other parts.

- ``EXORAG`` (the default): structure-aware chunks, hybrid dense+BM25 retrieval, the answerability
  checks.
- ``PLAIN``: the plain LangChain RAG that evals and benchmarks show beside exorag's figures:
  ``RecursiveCharacterTextSplitter(1000, 200)`` chunks, Chroma top-4 similarity, none of the
  answerability checks (the out-of-scope gate, named things no passage mentions, the kind of
  detail a question asks for), no special handling of broad or yes/no questions. It shares the
  rest: loaders, embedder, generator, verification; its collection is ``baseline``, embedded
  beside exorag's in the index folder.

Build a pipeline's index with ``ingest(settings, parts)``, then answer with
``exorag.chain.answer(question, options, settings, parts)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from langchain_core.embeddings import Embeddings

from exorag.config import Settings
from exorag.ingest.chunking import Chunker, character_chunker, settings_chunker
from exorag.ingest.sync import IngestReport, sync_corpus
from exorag.retrieve import PassageRetriever, Retriever, SimilarityRetriever
from exorag.store.chroma import EmbedderMismatch
from exorag.store.index import Index


@dataclass(frozen=True)
class Parts:
    """The swappable parts of a pipeline."""

    name: str
    chunker: Callable[[Settings], Chunker]
    retriever: Callable[[Index, Callable[[str], list[float]]], PassageRetriever]
    # The answerability checks, and the reading of a question's shape (broad, yes/no) that goes with them.
    checks: bool = True
    # Settings this pipeline sets whatever the user's are (its collection, its k).
    overrides: dict[str, object] = field(default_factory=dict)
    # Its collection is a derived copy of the corpus: rebuilt, not refused, when the embedder changes.
    disposable: bool = False

    def configure(self, settings: Settings) -> Settings:
        return settings.model_copy(update=self.overrides) if self.overrides else settings


EXORAG = Parts("exorag", settings_chunker, Retriever)
PLAIN = Parts("plain", lambda settings: character_chunker(1000, 200), SimilarityRetriever, checks=False,
              overrides={"collection": "baseline", "k": 4, "chroma_url": None}, disposable=True)


def ingest(settings: Settings, parts: Parts = EXORAG, embeddings: Embeddings | None = None) -> IngestReport:
    """Sync the collection of ``parts`` with the corpus, cut by its chunker (``sync_corpus``)."""
    settings, chunker = parts.configure(settings), parts.chunker(settings)
    try:
        return sync_corpus(settings, embeddings=embeddings, chunker=chunker)
    except EmbedderMismatch:
        if not parts.disposable:
            raise
        return sync_corpus(settings, embeddings=embeddings, chunker=chunker, reembed=True)
