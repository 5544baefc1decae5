"""The lexical half of hybrid search: BM25 (bm25s, sparse matrices) over exorag's tokens.

Built from the Chroma collection after every sync and saved under ``<index>/lexical``, stamped
with the collection's generation; a process loads it (it is not rebuilt per query) and rebuilds
it only when the stamp no longer matches, e.g. after a sync was killed or ran on another machine.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import json
import math
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import bm25s
import numpy as np

from exorag.models import Chunk
from exorag.text import JOINERS, TOKENIZER_VERSION, identifier_spellings, tokenize

_META = "exorag_meta.json"
# The layout of the saved metadata; an index saved in another is rebuilt from the collection.
FORMAT = 2


def postings(model: bm25s.BM25) -> tuple[np.ndarray, np.ndarray]:
    """``(indptr, holders)``: the chunks holding vocabulary token ``t`` are ``holders[indptr[t] : indptr[t + 1]]``.

    bm25s has no public API for its postings, so this is the one place that reads its internals:
    the score matrix ``BM25.scores``, compressed by token column. tests/test_lexical.py checks it
    against the public ``BM25.get_scores``, so a bm25s release that changes it fails there.
    """
    return model.scores["indptr"], model.scores["indices"]


def family_of(name: str) -> str | None:
    """A numbered name's family: its first spelling up to its first digit (``mir-`` for ``miR-210``)."""
    spellings = identifier_spellings(name)
    family = re.match(r"\D+", spellings[0]) if spellings else None
    return family.group(0) if family else None


def is_family_member(token: str, family: str) -> bool:
    """Whether ``token`` is a numbered name of ``family`` (``mir-4190a`` of ``mir-``, not ``mir-4190a-3p``)."""
    rest = token[len(family):]
    return token.startswith(family) and rest[:1].isdigit() and not JOINERS.search(rest)


class LexicalIndex:
    """BM25 over the chunks of one collection, with each chunk's filterable metadata and place in
    its document (``sources``, ``starts``): passages near a hit are found here, not by a filtered
    Chroma read, which scans the collection."""

    def __init__(self, model: bm25s.BM25 | None, ids: list[str], kinds: list[str], sections: list[str],
                 refs: list[list[int]], sources: list[str], starts: list[int], generation: str,
                 centroid: list[float] | None = None, suspect: list[str] | None = None):
        self.model = model
        self.ids = ids
        self.sources = np.array(sources, dtype=str)
        self.starts = np.array(starts, dtype=np.int64)
        # Chunks marked suspect at ingest: searchable by no one, named in answers as held back.
        self.suspect = frozenset(suspect or ())
        self._usable = np.array([i not in self.suspect for i in ids], dtype=bool) if self.suspect else None
        self.kinds = np.array(kinds)
        self.sections = np.array(sections)
        self.refs = refs
        self.generation = generation
        # The unit mean of all chunk embeddings: the direction that says only "this corpus's topic".
        self.centroid = np.asarray(centroid, dtype=np.float32) if centroid else None
        self._vocabulary: list[str] | None = None
        if model is not None:
            self._indptr, self._holders = postings(model)
            self._document_frequency = np.diff(self._indptr)

    @classmethod
    def build(cls, chunks: Iterable[Chunk], generation: str, centroid: list[float] | None = None) -> LexicalIndex:
        ids, kinds, sections, refs, corpus, suspect, sources, starts = [], [], [], [], [], [], [], []
        for chunk in chunks:
            ids.append(chunk.chunk_id)
            sources.append(chunk.source_id)
            starts.append(chunk.char_start)
            if chunk.suspect:
                suspect.append(chunk.chunk_id)
            kinds.append(chunk.source_kind)
            sections.append(chunk.section)
            refs.append(chunk.refs)
            corpus.append(tokenize(f"{chunk.section}\n{chunk.text}"))
        model = None
        if ids:
            model = bm25s.BM25()
            model.index(corpus, show_progress=False)
        return cls(model, ids, kinds, sections, refs, sources, starts, generation, centroid, suspect)

    def save(self, folder: Path) -> None:
        """Write to ``folder`` through a staging folder of this save's own, renamed into place: a
        half-written index is never read, and two saves never write into the same folder."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        meta = {"format": FORMAT, "generation": self.generation, "tokenizer": TOKENIZER_VERSION, "ids": self.ids,
                "kinds": self.kinds.tolist(), "sections": self.sections.tolist(), "refs": self.refs,
                "sources": self.sources.tolist(), "starts": self.starts.tolist(),
                "centroid": self.centroid.tolist() if self.centroid is not None else None,
                "suspect": sorted(self.suspect)}
        try:
            if self.model is not None:
                self.model.save(str(staging), show_progress=False)
            (staging / _META).write_text(json.dumps(meta), encoding="utf-8")
        except BaseException:  # a full disk: leave no half-written staging folder taking its space
            shutil.rmtree(staging, ignore_errors=True)
            raise
        replaced = Path(tempfile.mkdtemp(prefix=f".{folder.name}-old-", dir=folder.parent))
        if folder.exists():
            folder.rename(replaced / folder.name)
        staging.rename(folder)
        shutil.rmtree(replaced, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none, it cannot be read, or another tokenizer or
        format built it."""
        try:
            meta = json.loads((folder / _META).read_text(encoding="utf-8"))
            if meta.get("tokenizer") != TOKENIZER_VERSION or meta.get("format") != FORMAT:
                return None
            model = bm25s.BM25.load(str(folder), mmap=False) if meta["ids"] else None
            return cls(model, meta["ids"], meta["kinds"], meta["sections"], meta["refs"], meta["sources"], meta["starts"],
                       meta["generation"], meta.get("centroid"), meta.get("suspect"))
        except (OSError, ValueError, KeyError):
            return None

    def __len__(self) -> int:
        return len(self.ids)

    def knows(self, token: str) -> bool:
        return self.model is not None and token in self.model.vocab_dict

    def specificity(self, token: str) -> float:
        """IDF scaled to 0..1, where 1 is a token no chunk contains."""
        return self.idf(token) / self.idf("\x00")

    def idf(self, token: str) -> float:
        """Inverse document frequency; a token the corpus never uses counts as the rarest."""
        count = len(self.ids)
        frequency = 0
        if self.model is not None and token in self.model.vocab_dict:
            frequency = int(self._document_frequency[self.model.vocab_dict[token]])
        return math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))

    def allowed(self, source_kind: str | None, sections: list[str] | None, refs: list[int] | None,
                suspect_only: bool = False) -> np.ndarray | None:
        """A 0/1 mask of the chunks that pass the filters and are not suspect (or, with
        ``suspect_only``, that are), or None when every chunk does."""
        usable = self._usable if self._usable is not None else np.ones(len(self.ids), dtype=bool)
        if suspect_only:
            usable = ~usable
        elif not (source_kind or sections or refs):
            return None if self._usable is None else usable.copy()
        mask = usable.copy()
        if source_kind:
            mask &= self.kinds == source_kind
        if sections:
            mask &= np.isin(self.sections, sections)
        if refs:
            wanted = set(refs)
            mask &= np.array([bool(wanted.intersection(r)) for r in self.refs], dtype=bool)
        return mask

    def passages_of(self, source_id: str, mask: np.ndarray | None, section: str | None = None,
                    after: int | None = None, until: int | None = None) -> list[str]:
        """The ids of ``source_id``'s chunks in ``mask`` (and ``section``, and starting after
        ``after`` and at most at ``until``), in document order."""
        chosen = self.sources == source_id
        if mask is not None:
            chosen &= mask
        if section is not None:
            chosen &= self.sections == section
        if after is not None:
            chosen &= self.starts > after
        if until is not None:
            chosen &= self.starts <= until
        positions = np.flatnonzero(chosen)
        return [self.ids[p] for p in positions[np.argsort(self.starts[positions], kind="stable")]]

    def naming_all(self, names: list[str], mask: np.ndarray | None = None) -> set[str]:
        """The ids of the chunks whose tokens include every one of ``names`` whole, in any of its
        spellings (``miR-21`` is not found in a chunk that only has ``miR-210``)."""
        if self.model is None or not names:
            return set()
        found: np.ndarray | None = None
        for name in names:
            holding = self._chunks_holding(identifier_spellings(name))
            found = holding if found is None else np.intersect1d(found, holding, assume_unique=True)
        if mask is not None:
            found = found[mask[found]]
        return {self.ids[position] for position in found}

    def mentions(self, name: str, mask: np.ndarray | None = None) -> bool:
        """Whether a chunk (in ``mask``) names identifier ``name``, a more specific form of it
        (``HIF-1`` in ``HIF-1α``, but ``miR-21`` not in ``miR-210``) or a numbered form it
        specifies (``miR-21`` for ``miR-21-5p``, but ``MMP`` not for ``MMP-2``)."""
        if self.model is None:
            return False
        spellings = identifier_spellings(name)
        parts = spellings[0].split("-") if spellings else []
        shorter = [spelling for n in range(1, len(parts)) if any(c.isdigit() for c in parts[n - 1])
                   for spelling in identifier_spellings("-".join(parts[:n]))]
        holding = self._chunks_holding([*spellings, *self._tokens_extending(spellings), *shorter])
        return bool(holding[mask[holding]].size if mask is not None else holding.size)

    def _chunks_holding(self, tokens: list[str]) -> np.ndarray:
        """Positions of the chunks holding any of ``tokens``, from the BM25 postings."""
        columns = self.model.get_tokens_ids(tokens)
        if not columns:
            return np.array([], dtype=self._holders.dtype)
        return np.unique(np.concatenate([self._holders[self._indptr[c] : self._indptr[c + 1]] for c in columns]))

    def names_relatives(self, name: str) -> bool:
        """Whether the corpus names ``name``'s family (the letters before its first digit) or other
        numbered members of it: ``MMPs`` or ``MMP-9`` for ``MMP-2``, ``miR-21`` for ``miR-9``.
        The whole corpus counts, whatever the filters: a family is known or not."""
        spellings = identifier_spellings(name)
        family = re.match(r"\D+", JOINERS.sub("", spellings[0])) if spellings else None
        if family is None:
            return False
        letters = family.group(0)
        return (self.knows(letters) or self.knows(letters + "s")
                or any(next(self.tokens_starting(letters + digit), None) for digit in "0123456789"))

    def family_members(self, name: str, most: int = 12) -> list[str]:
        """Numbered names of ``name``'s family that the corpus uses (``mir-122``, ``mir-21`` for
        ``miR-210``), as tokens, at most ``most`` (the first in alphabetical order)."""
        family = family_of(name)
        if family is None:
            return []
        return list(itertools.islice((t for t in self.tokens_starting(family) if is_family_member(t, family)), most))

    def has_prefix(self, prefix: str) -> bool:
        """Whether some token of the corpus starts with ``prefix``."""
        return next(self.tokens_starting(prefix), None) is not None

    def spells_nearly(self, token: str, shared: int = 3, likeness: float = 0.85) -> bool:
        """Whether the corpus has a token spelled nearly like ``token`` ("zoledron" for "zolendron"):
        the same first ``shared`` letters and a ``difflib`` likeness of at least ``likeness``."""
        return bool(difflib.get_close_matches(token, list(self.tokens_starting(token[:shared])), n=1, cutoff=likeness))

    def _tokens_extending(self, spellings: list[str]) -> list[str]:
        return [token for spelling in spellings for token in self.tokens_starting(spelling)
                if token != spelling and not token[len(spelling)].isdigit()]

    def tokens_starting(self, prefix: str) -> Iterator[str]:
        """The corpus's tokens that start with ``prefix``, in alphabetical order."""
        vocabulary = self._sorted_vocabulary()
        start = bisect.bisect_left(vocabulary, prefix)
        following = (vocabulary[position] for position in range(start, len(vocabulary)))
        return itertools.takewhile(lambda token: token.startswith(prefix), following)

    def _sorted_vocabulary(self) -> list[str]:
        if self._vocabulary is None:
            self._vocabulary = sorted(self.model.vocab_dict) if self.model is not None else []
        return self._vocabulary

    def search(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The ``n`` best chunks for ``query`` as ``(chunk_id, bm25 score)``, best first."""
        if self.model is None:
            return []
        tokens = [t for t in tokenize(query) if t in self.model.vocab_dict]
        if not tokens:
            return []
        scores = self.model.get_scores(tokens, weight_mask=mask)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
