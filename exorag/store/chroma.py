"""Chroma, embedded under the index folder or a server at ``EXORAG_CHROMA_URL``, through chromadb's client.

Chunks are written with embeddings computed by exorag (never Chroma's default embedding
function, which would download a model). The collection's metadata carries a ``generation``
stamp that changes with every sync, so the lexical index can tell whether it is current, and the
name of the embedder that built it: vectors of another embedder are refused, never mixed in.
"""

from __future__ import annotations

import shlex
import uuid
from collections.abc import Iterator, Sequence
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from exorag.config import Settings
from exorag.models import Chunk

_GENERATION = "exorag_generation"
_EMBEDDER = "exorag_embedder"
# The fingerprint of the embedding model's files (indexes before 2026-11-29 did not record it).
_MODEL = "exorag_embedding_model"
# Indexes built before the embedder was recorded were all built by sentence-transformers.
_UNRECORDED_EMBEDDER = "torch"
# Rows read per call when walking the whole collection: larger pages make Chroma hold more memory
# (about 0.2 GB more at 5,000 rows than at 1,000 on a 100,000-chunk index) for little speed.
_PAGE = 1000
# Chroma's own files inside the index folder.
CHROMA_FOLDER = "chroma"


class StoreUnavailable(RuntimeError):
    """The Chroma server or folder cannot be opened."""


class EmbedderMismatch(StoreUnavailable):
    """The index was built by another embedder than the configured one."""


def reembed_command(settings: Settings) -> str:
    """The command that rebuilds this index's vectors with the configured embedder."""
    defaults = Settings.model_fields
    folders = "".join(f" --{name} {shlex.quote(str(getattr(settings, name)))}" for name in ("corpus", "index")
                      if getattr(settings, name) != defaults[name].default)
    collection = f"EXORAG_COLLECTION={settings.collection} " if settings.collection != defaults["collection"].default else ""
    return f"{collection}EXORAG_EMBEDDER={settings.embedder} exorag ingest{folders} --reembed"


def drop_collection(settings: Settings) -> None:
    """Delete this index's Chroma collection (its vectors), if it exists."""
    client = _client(settings)
    if settings.collection in {collection.name for collection in client.list_collections()}:
        client.delete_collection(settings.collection)


def rename_collection(settings: Settings, name: str) -> None:
    """Give this index's Chroma collection another name (the new name must be free)."""
    _client(settings).get_collection(settings.collection).modify(name=name)


def stored_chunks(settings: Settings, paths: set[str]) -> list[Chunk]:
    """The chunks this index's collection holds of the files at ``paths``, whichever embedder built
    it (a re-embed embeds their text again), or none when there is no collection."""
    client = _client(settings)
    if not paths or settings.collection not in {collection.name for collection in client.list_collections()}:
        return []
    rows = client.get_collection(settings.collection).get(where={"source_path": {"$in": sorted(paths)}},
                                                          include=["documents", "metadatas"])
    return [chunk_from_row(chunk_id, text, metadata)
            for chunk_id, text, metadata in zip(rows["ids"], rows["documents"], rows["metadatas"], strict=True)]


def forget_open_indexes() -> None:
    """Make the next client of an index read it from disk afresh. Chroma keeps one view of an index
    folder per process and never sees what another process (an ``exorag ingest`` in a terminal
    while ``exorag serve`` answers) wrote there since: ids it cannot find, vectors of deleted chunks."""
    SharedSystemClient.clear_system_cache()


def has_chroma_data(settings: Settings) -> bool:
    """Whether the index folder holds Chroma's files, i.e. something was ingested there."""
    return (settings.index / CHROMA_FOLDER).is_dir()


def check_index_folder(settings: Settings) -> None:
    """StoreUnavailable when the index path is a file (an ``--index`` typed for another argument)."""
    if settings.index.exists() and not settings.index.is_dir():
        raise StoreUnavailable(f"{settings.index}: a file, not an index folder")


def _client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as error:  # chromadb raises bare Exceptions on connection failure
            raise StoreUnavailable(f"EXORAG_CHROMA_URL={settings.chroma_url}: cannot connect ({error})") from error
    check_index_folder(settings)
    try:
        settings.index.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.index / CHROMA_FOLDER), settings=chroma_settings)
    except (OSError, ChromaError) as error:
        raise StoreUnavailable(f"{settings.index}: cannot open the index ({error})") from error


def check_server(settings: Settings) -> None:
    """StoreUnavailable unless a Chroma server answers at ``settings.chroma_url`` (making its HTTP
    client asks the server, so an unreachable one fails here)."""
    _client(settings)


def chunk_metadata(chunk: Chunk) -> dict:
    """Chroma metadata of a chunk (Chroma takes no None and no empty list, so those are left out)."""
    metadata = chunk.model_dump(exclude={"chunk_id", "text"}, exclude_none=True)
    if not metadata["refs"]:
        del metadata["refs"]
    return metadata


def chunk_from_row(chunk_id: str, text: str, metadata: dict) -> Chunk:
    return Chunk(chunk_id=chunk_id, text=text, **{"refs": [], **metadata})


class VectorStore:
    """The Chroma collection of one index; exorag passes the embeddings, so it has no embedding function."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.client = _client(settings)
        try:
            self.collection = self.client.get_or_create_collection(
                settings.collection, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
            self._check_embedder()
        except ChromaError as error:  # a read-only or full disk, a database another version wrote
            raise StoreUnavailable(f"{settings.chroma_url or settings.index}: cannot open the index ({error})") from error

    def _check_embedder(self) -> None:
        """Record the embedder and its model in a new collection; refuse one built by another."""
        from exorag.embeddings import model_fingerprint, model_path

        metadata = self.collection.metadata or {}
        model = model_fingerprint(model_path(self.settings))
        if self.count() == 0:
            if (metadata.get(_EMBEDDER), metadata.get(_MODEL)) != (self.settings.embedder, model):
                self.collection.modify(metadata={**metadata, _EMBEDDER: self.settings.embedder, _MODEL: model})
            return
        built_by = str(metadata.get(_EMBEDDER, _UNRECORDED_EMBEDDER))
        where = self.settings.chroma_url or str(self.settings.index)
        if built_by != self.settings.embedder:
            raise EmbedderMismatch(
                f"{where} (collection {self.settings.collection}) was embedded with EXORAG_EMBEDDER={built_by}, "
                f"not {self.settings.embedder}; vectors of two embedders cannot be searched together. "
                f"Use EXORAG_EMBEDDER={built_by}, or re-embed the index: {reembed_command(self.settings)}"
            )
        if metadata.get(_MODEL, model) != model:
            raise EmbedderMismatch(
                f"{where} (collection {self.settings.collection}) was embedded with another embedding model "
                f"(files {metadata[_MODEL]}) than {model_path(self.settings)} (files {model}); vectors of two models "
                f"cannot be searched together. Set EXORAG_EMBEDDING_MODEL to the model that built it, or re-embed "
                f"the index: {reembed_command(self.settings)}"
            )

    @property
    def generation(self) -> str:
        """The stamp as stored now: another process's sync may have changed it since this store opened."""
        metadata = self.client.get_collection(self.settings.collection).metadata
        return str((metadata or {}).get(_GENERATION, ""))

    def new_generation(self) -> str:
        """Stamp the collection with a fresh generation and return it."""
        generation = uuid.uuid4().hex
        self.collection.modify(metadata={**(self.collection.metadata or {}), _GENERATION: generation})
        return generation

    def count(self) -> int:
        return self.collection.count()

    def ids_by_source(self) -> dict[str, set[str]]:
        """Chunk ids currently stored, grouped by source path."""
        grouped: dict[str, set[str]] = {}
        for offset in range(0, self.count(), _PAGE):
            rows = self.collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for chunk_id, metadata in zip(rows["ids"], rows["metadatas"]):
                grouped.setdefault(str(metadata.get("source_path", "")), set()).add(chunk_id)
        return grouped

    def add(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        self.collection.upsert(
            ids=[c.chunk_id for c in chunks],
            embeddings=[list(v) for v in vectors],
            documents=[c.text for c in chunks],
            metadatas=[chunk_metadata(c) for c in chunks],
        )

    def suspect_ids(self) -> set[str]:
        """Ids of the chunks stored with the ``suspect`` mark."""
        return set(self.collection.get(where={"suspect": True}, include=[])["ids"])

    def update_metadata(self, chunks: Sequence[Chunk]) -> None:
        """Rewrite the metadata of stored chunks (their text and embedding stay)."""
        for start in range(0, len(chunks), _PAGE):
            page = chunks[start : start + _PAGE]
            self.collection.update(ids=[c.chunk_id for c in page], metadatas=[chunk_metadata(c) for c in page])

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _PAGE):
            self.collection.delete(ids=list(ids[start : start + _PAGE]))

    def all_chunks(self) -> Iterator[Chunk]:
        for offset in range(0, self.count(), _PAGE):
            rows = self.collection.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            for chunk_id, text, metadata in zip(rows["ids"], rows["documents"], rows["metadatas"]):
                yield chunk_from_row(chunk_id, text, metadata)

    def mean_embedding(self) -> list[float] | None:
        """The unit-length mean of all stored embeddings, or None for an empty collection."""
        total = None
        for offset in range(0, self.count(), _PAGE):
            rows = self.collection.get(include=["embeddings"], limit=_PAGE, offset=offset)
            page_sum = np.asarray(rows["embeddings"], dtype=np.float64).sum(axis=0)
            total = page_sum if total is None else total + page_sum
        if total is None or not np.linalg.norm(total):
            return None
        return (total / np.linalg.norm(total)).tolist()

    def get(self, ids: Sequence[str]) -> dict[str, tuple[Chunk, np.ndarray]]:
        if not ids:
            return {}
        rows = self.collection.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        return {
            chunk_id: (chunk_from_row(chunk_id, text, metadata), np.asarray(vector, dtype=np.float32))
            for chunk_id, text, metadata, vector in zip(rows["ids"], rows["documents"], rows["metadatas"], rows["embeddings"])
        }

    def query(self, vector: Sequence[float], n: int, where: dict | None = None) -> list[tuple[Chunk, float, np.ndarray]]:
        """The ``n`` nearest chunks (fewer when the collection holds fewer) as ``(chunk, cosine
        similarity, embedding)``."""
        # No count() first: Chroma 1.x answers an empty or small collection itself, and each
        # count is a few milliseconds of a query's budget.
        rows = self.collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=n,
            where=where,
            include=["documents", "metadatas", "distances", "embeddings"],
        )
        return [
            (chunk_from_row(chunk_id, text, metadata), 1.0 - distance, np.asarray(embedding, dtype=np.float32))
            for chunk_id, text, metadata, distance, embedding in zip(
                rows["ids"][0], rows["documents"][0], rows["metadatas"][0], rows["distances"][0], rows["embeddings"][0]
            )
        ]
