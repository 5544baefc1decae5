"""Keeping the index in step with the corpus folder.

Chunk ids derive from content, so the sync is a set difference: chunks whose id is new are
embedded and added, ids no longer produced by the corpus are deleted, and everything else is left
alone (a second ingest of an unchanged corpus embeds nothing). Additions come before deletions
and every step is idempotent, so an ingest killed at any point is repaired by the next one. A
file that fails to load keeps the chunks it had.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chromadb.errors import ChromaError
from filelock import Timeout
from langchain_core.embeddings import Embeddings

from exorag.config import Settings
from exorag.embeddings import get_embeddings
from exorag.ingest.chunking import Chunker, settings_chunker
from exorag.ingest.injection import instruction_like
from exorag.ingest.loaders import LoadError, load_document, supported_extensions
from exorag.models import Chunk, SourceKind
from exorag.references import REFERENCES_FILE, load_references
from exorag.refs.corpus import is_hidden, outside_corpus, shown_path
from exorag.store.chroma import StoreUnavailable, check_index_folder, drop_collection, rename_collection, stored_chunks
from exorag.store.index import Index, ingest_lock, lexical_folder

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while a sync runs."""

_EMBED_BATCH = 256


def _add(index: Index, chunks: list[Chunk], vectors: Sequence[Sequence[float]]) -> int:
    index.vectors.add(chunks, vectors)
    return len(chunks)


class IngestLocked(RuntimeError):
    """Another ingest holds the index."""


class CorpusMissing(FileNotFoundError):
    """The corpus folder does not exist."""


@dataclass
class IngestReport:
    files: int = 0
    chunks: int = 0
    added: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    # Files with passages that read as instructions to a model: indexed, but never given to a generator.
    suspect: list[dict[str, str | int]] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def discover_sources(corpus: Path) -> list[tuple[Path, SourceKind]]:
    """The files to ingest: ``review/`` and ``literature/``, any depth, supported formats only.

    README files in those folders describe the folder and are not sources, nor are hidden files
    (``._paper.pdf``, the companions macOS leaves on shared drives) and folders. A link whose target
    is gone is kept, so that the ingest reports it instead of skipping it in silence; a link to a
    file outside the corpus folder is left out (``skipped_links``).
    """
    extensions = supported_extensions()
    sources: list[tuple[Path, SourceKind]] = []
    for folder, kind in (("review", "review"), ("literature", "literature")):
        root = corpus / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            is_source = (path.suffix.lower() in extensions and not path.name.lower().startswith("readme")
                         and not is_hidden(path, root))
            if is_source and (path.is_file() or path.is_symlink()) and not outside_corpus(path, corpus):
                sources.append((path, kind))
    return sources


def skipped_links(corpus: Path) -> list[dict[str, str]]:
    """Links in ``review/`` or ``literature/`` that the ingest does not follow, as ingest failures:
    one leading out of the corpus folder, and one to a folder (its files would be read twice, or
    in a loop)."""
    skipped = []
    for folder in ("review", "literature"):
        for path in sorted((corpus / folder).rglob("*")) if (corpus / folder).is_dir() else []:
            if outside_corpus(path, corpus):
                error = "a link to a file outside the corpus folder; skipped (copy the file into the corpus to ingest it)"
            elif path.is_symlink() and path.is_dir():
                error = "a link to a folder; its files are not read (copy the folder in, or link its files one by one)"
            else:
                continue
            skipped.append({"path": shown_path(path.relative_to(corpus).as_posix()), "error": error})
    return skipped


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def chunk_sources(settings: Settings, progress: Progress | None = None, chunker: Chunker | None = None
                  ) -> tuple[dict[str, list[Chunk]], list[dict[str, str]]]:
    """Load and chunk every source: ``({relative path: chunks}, failures)``; ``chunker`` defaults to
    exorag's structure-aware chunks of the settings' size."""
    chunker = chunker or settings_chunker(settings)
    corpus = settings.corpus
    sources = discover_sources(corpus)
    chunks_by_path: dict[str, list[Chunk]] = {}
    failed: list[dict[str, str]] = []
    for done, (path, kind) in enumerate(sources, start=1):
        relative = path.relative_to(corpus).as_posix()
        shown = shown_path(relative)
        try:
            if shown != relative:  # a name from an archive made on another system (Latin-1 "caf\xe9.txt")
                raise LoadError("the file name is not valid UTF-8; rename the file to ingest it")
            document = load_document(path, max_bytes=int(settings.max_file_mb * 1e6))
            chunks = chunker(document, relative, kind, _file_hash(path))
            if not chunks:
                raise LoadError("no text outside its headings")
            for chunk in chunks:
                chunk.suspect = instruction_like(chunk.text) is not None
            chunks_by_path[relative] = chunks
        except LoadError as error:
            failed.append({"path": shown, "error": str(error)})
        except OSError as error:
            failed.append({"path": shown, "error": f"cannot read: {error.strerror or error}"})
        except Exception as error:  # a loader's own failure on odd input: this file fails, the rest go on
            logger.exception("reading %s failed", shown)
            failed.append({"path": shown, "error": f"could not be read ({type(error).__name__}: {error})"})
        if progress:
            progress("reading", done, len(sources))
    return chunks_by_path, failed


def suspect_summary(chunks_by_path: dict[str, list[Chunk]]) -> list[dict[str, str | int]]:
    """One entry a file with suspect chunks: its path, how many, and why the first one is."""
    summary: list[dict[str, str | int]] = []
    for path, chunks in chunks_by_path.items():
        suspect = [chunk for chunk in chunks if chunk.suspect]
        if suspect:
            summary.append({"path": path, "chunks": len(suspect), "why": instruction_like(suspect[0].text) or ""})
    return summary


def embedding_text(chunk: Chunk) -> str:
    """What is embedded for a chunk: its section heading gives the passage its topic."""
    return f"{chunk.section}: {chunk.text}" if chunk.section and chunk.section != chunk.title else chunk.text


def sync_corpus(settings: Settings, progress: Progress | None = None, embeddings: Embeddings | None = None,
                reembed: bool = False, chunker: Chunker | None = None) -> IngestReport:
    """Bring the index in line with the corpus folder and return what changed.

    ``embeddings`` embeds the new chunks instead of the configured model (the benchmark passes one
    that reuses cached vectors). ``reembed`` embeds the whole corpus again with the configured
    embedder, beside the live vectors, which it replaces at the end. ``chunker`` replaces exorag's chunks (the plain
    pipeline of ``exorag.pipelines`` uses LangChain's character splitter).
    """
    if not settings.corpus.is_dir():
        raise CorpusMissing(f"{settings.corpus}: corpus folder not found")
    if not discover_sources(settings.corpus):
        # Syncing an empty folder would delete the whole index: far more often a wrong --corpus.
        raise CorpusMissing(f"{settings.corpus}: no files in review/ or literature/ to ingest (is this the corpus folder?)")
    check_index_folder(settings)
    lock = ingest_lock(settings)
    try:
        lock.acquire()
    except Timeout as error:
        raise IngestLocked(f"{settings.index}: another ingest is running on this index; try again when it ends") from error
    try:
        if reembed:
            return _reembed(settings, progress, embeddings, chunker)
        return _sync(settings, progress, embeddings, chunker)
    except (OSError, ChromaError) as error:  # a full disk: what was written stays, the next ingest completes it
        raise StoreUnavailable(f"{settings.index}: writing the index failed ({error}); free space and run the "
                               "ingest again: it goes on from what was written") from error
    finally:
        lock.release()


def _reembed(settings: Settings, progress: Progress | None, embeddings: Embeddings | None, chunker: Chunker | None
             ) -> IngestReport:
    """Embed the whole corpus into a collection beside the live one, then put it in the live one's
    place: readers answer from the old vectors until the new ones are complete, and an interrupted
    re-embed leaves the old index as it was (its staging collection is dropped by the next one)."""
    staging = settings.model_copy(update={"collection": f"{settings.collection}-reembed"})
    drop_collection(staging)
    report = _sync(staging, progress, embeddings, chunker, carry_from=settings)
    drop_collection(settings)
    rename_collection(staging, settings.collection)
    target = lexical_folder(settings)
    if target.exists():
        shutil.rmtree(target)
    lexical_folder(staging).rename(target)
    return report


def _sync(settings: Settings, progress: Progress | None, embeddings: Embeddings | None, chunker: Chunker | None,
          carry_from: Settings | None = None) -> IngestReport:
    """Bring the index of ``settings`` in step with the corpus; a file that fails to load keeps what
    the index had of it, or, building a new collection (``carry_from``, a re-embed), what that one had."""
    report = IngestReport()
    _, reference_problems = load_references(settings.corpus / REFERENCES_FILE)
    # problems read "references.jsonl line 7: ..."; the error keeps the line number
    report.failed += [{"path": REFERENCES_FILE, "error": p.removeprefix(f"{REFERENCES_FILE} ")} for p in reference_problems]

    skipped = skipped_links(settings.corpus)
    chunks_by_path, failed = chunk_sources(settings, progress, chunker)
    failed = skipped + failed
    report.failed += failed
    report.files = len(chunks_by_path)
    report.suspect = suspect_summary(chunks_by_path)

    index = Index(settings, rebuild=False)
    stored = index.vectors.ids_by_source()
    stored_suspect = index.vectors.suspect_ids()
    index.vectors.new_generation()  # marks the lexical index stale until this sync completes

    failed_paths = {f["path"] for f in failed}
    wanted = {chunk.chunk_id for chunks in chunks_by_path.values() for chunk in chunks}
    present = set().union(*stored.values()) if stored else set()
    to_add = deque(chunk for chunks in chunks_by_path.values() for chunk in chunks if chunk.chunk_id not in present)
    report.unchanged = len(wanted) - len(to_add)
    if carry_from is not None:
        to_add.extend(stored_chunks(carry_from, failed_paths))
    to_remove = [
        chunk_id
        for path, ids in stored.items()
        if path not in failed_paths
        for chunk_id in ids
        if chunk_id not in wanted
    ]
    report.chunks = len(wanted)
    # Chunks stored before the detector knew their kind of text get the mark without re-embedding.
    index.vectors.update_metadata([chunk for chunks in chunks_by_path.values() for chunk in chunks
                                   if chunk.chunk_id in present and chunk.suspect != (chunk.chunk_id in stored_suspect)])
    # From here on only the new chunks are needed, and each only until it is stored: on a large
    # corpus the chunks weigh hundreds of MB, which the lexical rebuild below needs for itself.
    chunks_by_path.clear()

    embeddings = embeddings or get_embeddings(settings)
    total = len(to_add)

    def stored(writing: Future[int]) -> None:
        report.added += writing.result()
        if progress:
            progress("embedding", report.added, total)

    # Each batch is written to Chroma while the next one is embedded (one write at a time, in order).
    with ThreadPoolExecutor(max_workers=1) as writer:
        writing: Future[int] | None = None
        while to_add:
            batch = [to_add.popleft() for _ in range(min(_EMBED_BATCH, len(to_add)))]
            vectors = embeddings.embed_documents([embedding_text(c) for c in batch])
            if writing:
                stored(writing)
            writing = writer.submit(_add, index, batch, vectors)
        if writing:
            stored(writing)
    index.vectors.delete(to_remove)
    report.removed = len(to_remove)

    index.rebuild_lexical(index.vectors.new_generation())
    return report
