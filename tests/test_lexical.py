"""The lexical index on bm25s: the one read of bm25s internals (its postings) still matches bm25s."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exorag.models import Chunk
from exorag.store.lexical import LexicalIndex, postings

TEXTS = [
    "Tumour exosomes carry PD-L1 and blunt T cells.",
    "Hypoxia changes the cargo of exosomes that tumours release.",
    "Melanoma exosomes prepare the lung for metastasis.",
    "miR-21 and miR-210 travel in exosomes.",
]


def chunks() -> list[Chunk]:
    return [
        Chunk(chunk_id=f"c{i}", text=text, source_id="s", source_path="review.md", source_kind="review",
              title="Review", section=f"Part {i}", char_start=0, char_end=len(text), content_hash=str(i))
        for i, text in enumerate(TEXTS)
    ]


def test_postings_are_the_chunks_that_bm25s_scores_for_each_token(tmp_path: Path) -> None:
    built = LexicalIndex.build(chunks(), "g1")
    built.save(tmp_path / "lexical")
    for index in (built, LexicalIndex.load(tmp_path / "lexical")):
        indptr, holders = postings(index.model)
        vocabulary = {token: column for token, column in index.model.vocab_dict.items() if token}  # "" is bm25s's own
        assert len(indptr) == len(vocabulary) + 1
        for token, column in vocabulary.items():
            scored = np.flatnonzero(index.model.get_scores([token]))
            assert sorted(holders[indptr[column] : indptr[column + 1]]) == scored.tolist(), token


def test_search_filters_and_mentions_use_the_postings() -> None:
    index = LexicalIndex.build(chunks(), "g1")

    assert index.search("exosomes T cells", 4)[0][0] == "c0"
    assert index.search("exosomes", 4, mask=np.array([False, True, False, False])) == [
        (chunk_id, score) for chunk_id, score in index.search("exosomes", 4) if chunk_id == "c1"]
    assert index.naming_all(["miR-21"]) == {"c3"}
    assert index.mentions("miR-21") and not index.mentions("miR-155")
    assert index.idf("exosom") < index.idf("melanoma") < index.idf("\x00")
