"""The baseline: a plain LangChain RAG over the same corpus, to show beside every exorag number.

What it shares with exorag: the corpus files (read with exorag's loaders), the embedding model,
the generator and the answer verification (``exorag.chain.build_answer``). What it does not: it
splits text with ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`` instead of
exorag's structure-aware chunks, retrieves with Chroma's plain ``similarity_search`` (k=4) instead
of hybrid dense+BM25 fusion with diversification, and has none of the chain's abstention checks
(the out-of-scope gate, named things no passage mentions, the kind of detail a question asks for).

Its Chroma collection lives in ``<index>/baseline/`` (embedded and persisted), built on first use
and rebuilt only when the corpus files, the splitter or the embedding model change.

Use it like ``exorag.chain.answer``::

    from evals.baseline import BaselineRAG
    rag = BaselineRAG(settings)
    answer = rag.answer("How do tumour exosomes blunt T cells?")   # an exorag Answer
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import Counter

import numpy as np
from langchain_core.embeddings import Embeddings

from exorag.chain import AnswerOptions, build_answer
from exorag.citations import cited_numbers
from exorag.config import Settings, get_settings
from exorag.embeddings import CachedTextEmbedder, get_embeddings
from exorag.generate import GenerationContext, get_generator
from exorag.ingest.loaders import LoadError, load_document
from exorag.ingest.sync import discover_sources
from exorag.models import Answer, Evidence
from exorag.references import REFERENCES_FILE, load_references
from exorag.refs.corpus import reference_number_of
from exorag.text import english_rarity, tokenize

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4
FOLDER = "baseline"
COLLECTION = "baseline"
MANIFEST = "manifest.json"


class BaselineRAG:
    """A plain LangChain RAG with ``answer(question, options=None) -> Answer`` like exorag's chain.

    ``options`` may choose the generator (``AnswerOptions.generator``); retrieval options (k,
    filters, history) are not part of a plain pipeline and are ignored.
    """

    name = "baseline"

    def __init__(self, settings: Settings | None = None, embeddings: Embeddings | None = None) -> None:
        """``embeddings`` replaces exorag's embedding model (for example a faster one in benchmarks)."""
        self.settings = settings or get_settings()
        self.folder = self.settings.index / FOLDER
        self._lock = threading.Lock()
        self._store = None
        self._document_frequency: Counter[str] = Counter()
        self._documents = 0
        self._centroid: np.ndarray | None = None
        self._embeddings = embeddings or get_embeddings(self.settings)
        # Cached like exorag's pipeline, so both systems pay the same for sentence embeddings.
        self.embed_texts = CachedTextEmbedder(self._embeddings)
        self.references, _ = load_references(self.settings.corpus / REFERENCES_FILE)
        self.skipped: list[dict[str, str]] = []

    # --- the index -------------------------------------------------------------------------------

    def _fingerprint(self) -> str:
        model = getattr(self._embeddings, "model_name", type(self._embeddings).__name__)
        digest = hashlib.sha256(f"{CHUNK_SIZE}/{CHUNK_OVERLAP}/{model}".encode())
        for path, kind in discover_sources(self.settings.corpus):
            digest.update(f"{kind}:{path.relative_to(self.settings.corpus)}:".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()

    def _split_corpus(self) -> list:
        """LangChain Documents of 1,000-character pieces (200 overlap) of every corpus file."""
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True)
        documents = []
        self.skipped = []
        for path, kind in discover_sources(self.settings.corpus):
            relative = str(path.relative_to(self.settings.corpus))
            try:
                loaded = load_document(path, max_bytes=int(self.settings.max_file_mb * 1e6))
            except LoadError as error:
                self.skipped.append({"path": relative, "error": str(error)})
                continue
            number = reference_number_of(path.name) if kind == "literature" else None
            metadata = {"source_path": relative, "source_kind": kind, "title": loaded.title or path.stem}
            if number is not None:
                metadata["paper_number"] = number
            documents.append(Document(page_content=loaded.text, metadata=metadata))
        return splitter.split_documents(documents)

    def _open(self):
        """The persisted Chroma vector store, (re)built first if the corpus changed."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from filelock import FileLock
        from langchain_chroma import Chroma

        self.folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.folder / ".lock")):
            fingerprint = self._fingerprint()
            manifest_path = self.folder / MANIFEST
            manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
            fresh = manifest.get("fingerprint") != fingerprint
            client = chromadb.PersistentClient(path=str(self.folder / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
            if fresh and COLLECTION in {collection.name for collection in client.list_collections()}:
                client.delete_collection(COLLECTION)
            store = Chroma(
                collection_name=COLLECTION,
                embedding_function=self._embeddings,
                client=client,
                collection_metadata={"hnsw:space": "cosine"},
            )
            if fresh:
                pieces = self._split_corpus()
                if pieces:
                    store.add_documents(pieces, ids=[f"b{i}" for i in range(len(pieces))])
                manifest_path.write_text(json.dumps({"fingerprint": fingerprint, "chunks": len(pieces), "skipped": self.skipped}))
            stored = store.get(include=["documents", "embeddings"])
        texts = stored["documents"]
        self._documents = len(texts)
        self._document_frequency = Counter(token for text in texts for token in set(tokenize(text)))
        if len(texts):
            mean = np.asarray(stored["embeddings"], dtype=np.float32).mean(axis=0)
            self._centroid = mean / (np.linalg.norm(mean) or 1.0)
        return store

    @property
    def store(self):
        """The LangChain ``Chroma`` store of the baseline's chunks (opened on first use)."""
        with self._lock:
            if self._store is None:
                self._store = self._open()
            return self._store

    # --- answering -------------------------------------------------------------------------------

    def term_weight(self, token: str, word: str) -> float:
        """IDF over the baseline's own chunks scaled to 0..1 (as exorag weighs terms over its index);
        a word the chunks never use is weighed by its rarity in English."""
        frequency = self._document_frequency.get(token, 0)
        if not frequency:
            return english_rarity(word)
        highest = math.log(1 + (self._documents + 0.5) / 0.5)
        return math.log(1 + (self._documents - frequency + 0.5) / (frequency + 0.5)) / highest

    def _search(self, question_vector: np.ndarray, k: int) -> tuple[list[Evidence], dict[str, np.ndarray]]:
        """The ``k`` nearest chunks as Evidence, and their embeddings by evidence id."""
        found = self.store.similarity_search_by_vector_with_relevance_scores(question_vector.tolist(), k=k)
        stored = self.store.get(ids=[document.id for document, _ in found], include=["embeddings"])
        vector_of = dict(zip(stored["ids"], np.asarray(stored["embeddings"], dtype=np.float32)))
        evidence, vectors = [], {}
        for rank, (document, distance) in enumerate(found, start=1):
            metadata = document.metadata
            number = metadata.get("paper_number")
            refs = [number] if number is not None else sorted(cited_numbers(document.page_content))
            kind = metadata.get("source_kind", "review")
            label = "Review" if kind == "review" else str(metadata.get("title", metadata.get("source_path", "")))
            start = metadata.get("start_index", 0)
            evidence.append(
                Evidence(
                    id=f"e{rank}",
                    chunk_id=f"{metadata.get('source_path')}#{start}",
                    source_label=f"{label}, characters {start}-{start + len(document.page_content)}",
                    source_path=str(metadata.get("source_path", "")),
                    source_kind=kind,
                    refs=refs,
                    text=document.page_content,
                    score=round(1 - float(distance), 4),
                )
            )
            vectors[f"e{rank}"] = vector_of[document.id]
        return evidence, vectors

    def retrieve(self, question_vector: np.ndarray, k: int = TOP_K) -> list[Evidence]:
        """The ``k`` chunks most similar to the question as Evidence: review chunks carry the
        reference numbers printed in them, a numbered literature file's chunks that paper's number."""
        return self._search(question_vector, k)[0]

    def answer(self, question: str, options: AnswerOptions | None = None) -> Answer:
        """Retrieve k=4 chunks, run exorag's generator on them and verify, as ``exorag.chain.answer``."""
        options = options or AnswerOptions()
        generator_name = options.generator or self.settings.generator
        started = time.perf_counter()
        question_vector = np.asarray(self._embeddings.embed_query(question), dtype=np.float32)
        evidence, passage_vectors = self._search(question_vector, TOP_K)
        retrieved = time.perf_counter()
        context = GenerationContext(term_weight=self.term_weight, embed_texts=self.embed_texts, question_vector=question_vector,
                                    centroid=self._centroid, passage_vectors=passage_vectors)
        draft = get_generator(generator_name, self.settings).generate(question, evidence, context)
        generated = time.perf_counter()
        result = build_answer(question, draft, evidence, generator_name, self.references)
        finished = time.perf_counter()
        result.timings_ms = {
            "retrieve": round((retrieved - started) * 1000, 2),
            "generate": round((generated - retrieved) * 1000, 2),
            "verify": round((finished - generated) * 1000, 2),
            "total": round((finished - started) * 1000, 2),
        }
        return result
