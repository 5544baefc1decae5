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


def test_a_documents_passages_are_found_in_order_within_the_filters(tmp_path: Path) -> None:
    paper = [Chunk(chunk_id=f"p{i}", text=f"Passage {i}.", source_id="paper", source_path="literature/1_a.txt",
                   source_kind="literature", title="A", section="Results" if i % 2 else "Methods", char_start=start,
                   char_end=start + 10, content_hash=f"p{i}")
             for i, start in enumerate([300, 0, 200, 100])]
    built = LexicalIndex.build([*chunks(), *reversed(paper)], "g1")
    built.save(tmp_path / "lexical")
    for index in (built, LexicalIndex.load(tmp_path / "lexical")):
        assert index.passages_of("paper", None) == ["p1", "p3", "p2", "p0"]
        assert index.passages_of("paper", None, after=100, until=300) == ["p2", "p0"]
        assert index.passages_of("paper", None, section="Results") == ["p1", "p3"]
        assert index.passages_of("paper", None, section="Methods", after=199) == ["p2", "p0"]
        assert index.passages_of("paper", index.allowed("review", None, None)) == []
        assert index.passages_of("s", None, until=0) == ["c0", "c1", "c2", "c3"]
