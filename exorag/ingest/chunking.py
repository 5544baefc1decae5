"""Cutting a loaded document into chunks that respect it.

Headings become the ``section`` of the chunks below them and always start a new chunk; chunks
break only between sentences (a citation bracket stays with its sentence), hold one paragraph
(short fragments join the next) up to a word budget, and repeat the last sentence(s) of a chunk at the start of the next when a
paragraph runs over. Table rows are chunks of their own, whole with their citations.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from langchain_text_splitters import RecursiveCharacterTextSplitter

from exorag.citations import cited_numbers
from exorag.config import Settings
from exorag.ingest.loaders.base import Block, LoadedDocument
from exorag.models import Chunk, SourceKind
from exorag.refs.corpus import reference_number_of
from exorag.text import split_sentences

_OPEN_BRACKET_AT_END = re.compile(r"\[[^\[\]]{0,200}$")
# The most a sentence or table row may hold before it is cut: far beyond any real one.
MAX_PIECE_WORDS = 1000
MAX_PIECE_CHARACTERS = 20_000

Chunker = Callable[[LoadedDocument, str, SourceKind, str], list[Chunk]]
"""Cuts a loaded document into chunks: ``chunker(document, source_path, source_kind, source_id)``."""


def stable_hash(*parts: str, length: int = 32) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:length]


def passage_refs(text: str, source_kind: SourceKind, own_number: int | None) -> list[int]:
    """The reference numbers a chunk carries: a numbered paper's own number, or the numbers a review
    passage cites (an unnumbered paper's chunks carry none)."""
    if own_number is not None:
        return [own_number]
    return sorted(cited_numbers(text)) if source_kind == "review" else []


def own_number_of(document: LoadedDocument, source_kind: SourceKind) -> int | None:
    return reference_number_of(document.path.name) if source_kind == "literature" else None


def title_of(document: LoadedDocument) -> str:
    return " ".join(document.title.split()) or document.path.stem


def join_broken_citations(document: LoadedDocument) -> list[Block]:
    """The document's blocks, with a paragraph that ends inside a citation bracket joined to the
    next paragraph: a line or page break inside ``[170-\\n172]`` must not cut the citation in two.
    The next line is joined even when it reads like a heading ("308-310] exosomes ..." looks like
    a numbered one): no heading starts inside a citation."""
    blocks: list[Block] = []
    for block in document.blocks:
        previous = blocks[-1] if blocks else None
        if (
            previous is not None
            and previous.kind == "paragraph"
            and block.kind in ("paragraph", "heading")
            and _OPEN_BRACKET_AT_END.search(document.block_text(previous))
        ):
            blocks[-1] = Block("paragraph", previous.start, block.end, previous.page)
        else:
            blocks.append(block)
    return blocks


@dataclass
class _Piece:
    """A sentence (or table row) about to go into a chunk."""

    start: int
    end: int
    text: str
    paragraph: int
    page: int | None


def bounded_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` (a sentence or a table row) as spans of at most ``MAX_PIECE_WORDS`` words
    and ``MAX_PIECE_CHARACTERS`` characters, cut between words where there is a space to cut at: a
    run with no sentence break found (a transcript in lower case, OCR output) must not become one
    chunk of megabytes, embedded only at its start."""
    span = text[start:end]
    if len(span) <= MAX_PIECE_CHARACTERS and len(span.split()) <= MAX_PIECE_WORDS:
        return [(start, end)]
    word_starts = (match.start() for match in re.finditer(r"\S+", span))
    bounds = [0, *itertools.islice(word_starts, MAX_PIECE_WORDS, None, MAX_PIECE_WORDS), len(span)]
    spans: list[tuple[int, int]] = []
    for first, stop in itertools.pairwise(bounds):
        piece = first
        while piece < stop:
            cut = min(piece + MAX_PIECE_CHARACTERS, stop)
            if cut < stop:
                space = max(span.rfind(" ", piece, cut), span.rfind("\n", piece, cut))
                cut = space if space > piece else cut  # a word longer than the limit is cut inside
            stripped = span[piece:cut].strip()
            if stripped:
                offset = piece + span[piece:cut].index(stripped)
                spans.append((start + offset, start + offset + len(stripped)))
            piece = cut
    return spans


def chunk_document(
    document: LoadedDocument,
    source_path: str,
    source_kind: SourceKind,
    source_id: str,
    chunk_words: int = 120,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Chunks of ``document``, in reading order, with every metadata field of DESIGN.md filled."""
    own_number = own_number_of(document, source_kind)
    title = title_of(document)
    chunks: list[Chunk] = []
    seen_texts: dict[str, int] = {}
    section = title if source_kind == "literature" else ""
    pending: list[_Piece] = []

    def emit(pieces: list[_Piece]) -> None:
        if not pieces:
            return
        lines: list[str] = []
        for index, piece in enumerate(pieces):
            if index and piece.paragraph == pieces[index - 1].paragraph:
                lines[-1] += " " + piece.text
            else:
                lines.append(piece.text)
        text = "\n".join(lines)
        occurrence = seen_texts.get(text, 0)
        seen_texts[text] = occurrence + 1
        chunks.append(
            Chunk(
                # the file's hash is part of the id: an edit elsewhere in the file moves offsets and
                # may rename the section, so every chunk of an edited file is stored afresh
                chunk_id=stable_hash(source_path, source_id, text, str(occurrence)),
                text=text,
                source_id=source_id,
                source_path=source_path,
                source_kind=source_kind,
                title=title,
                section=section,
                page=pieces[0].page,
                page_label=document.page_labels.get(pieces[0].page) if pieces[0].page is not None else None,
                char_start=pieces[0].start,
                char_end=pieces[-1].end,
                refs=passage_refs(text, source_kind, own_number),
                content_hash=stable_hash(text, length=16),
            )
        )

    def words(pieces: list[_Piece]) -> int:
        return sum(len(piece.text.split()) for piece in pieces)

    def too_long(pieces: list[_Piece], piece: _Piece) -> bool:
        return (words(pieces) + len(piece.text.split()) > chunk_words
                or sum(len(p.text) for p in pieces) + len(piece.text) > MAX_PIECE_CHARACTERS)

    for paragraph_index, block in enumerate(join_broken_citations(document)):
        block_text = document.block_text(block)
        if block.kind == "heading":
            emit(pending)
            pending = []
            section = " ".join(block_text.split())
            continue
        if block.kind == "table_row":
            emit(pending)
            pending = []
            for start, end in bounded_spans(block_text, 0, len(block_text)):
                emit([_Piece(block.start + start, block.start + end, " ".join(block_text[start:end].split()),
                             paragraph_index, block.page)])
            continue
        if words(pending) >= min(chunk_words // 4, 30):
            # A new paragraph starts a new chunk unless the open one is only a fragment.
            emit(pending)
            pending = []
        sentences = [span for start, end in split_sentences(block_text)
                     for span in bounded_spans(block_text, start, end)]
        for start, end in sentences:
            piece = _Piece(
                block.start + start, block.start + end, " ".join(block_text[start:end].split()), paragraph_index, block.page
            )
            if pending and too_long(pending, piece):
                emit(pending)
                # Overlap only inside a paragraph: a new paragraph starts a chunk cleanly.
                carried = pending[-overlap_sentences:] if overlap_sentences else []
                pending = [p for p in carried if p.paragraph == paragraph_index]
                if pending and too_long(pending, piece):
                    pending = []
            pending.append(piece)
    emit(pending)
    return chunks


def structured_chunker(chunk_words: int = 120, overlap_sentences: int = 1) -> Chunker:
    """exorag's chunks (``chunk_document``): headings, paragraphs and sentences respected."""
    return partial(chunk_document, chunk_words=chunk_words, overlap_sentences=overlap_sentences)


def settings_chunker(settings: Settings) -> Chunker:
    """exorag's chunks at the settings' size (``EXORAG_CHUNK_WORDS``, ``EXORAG_CHUNK_OVERLAP_SENTENCES``)."""
    return structured_chunker(settings.chunk_words, settings.chunk_overlap_sentences)


def character_chunker(size: int = 1000, overlap: int = 200) -> Chunker:
    """LangChain's plain ``RecursiveCharacterTextSplitter``: pieces of at most ``size`` characters,
    ``overlap`` of them shared with the next, blind to headings and sentences."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap, add_start_index=True)

    def chunk(document: LoadedDocument, source_path: str, source_kind: SourceKind, source_id: str) -> list[Chunk]:
        own_number = own_number_of(document, source_kind)
        chunks: list[Chunk] = []
        for position, piece in enumerate(splitter.create_documents([document.text])):
            text, start = piece.page_content, piece.metadata["start_index"]
            chunks.append(Chunk(
                # The splitter may give one short piece twice at one start: its position keeps the ids apart.
                chunk_id=stable_hash(source_path, source_id, str(position), str(start), text), text=text, source_id=source_id,
                source_path=source_path, source_kind=source_kind, title=title_of(document), char_start=start,
                char_end=start + len(text), refs=passage_refs(text, source_kind, own_number),
                content_hash=stable_hash(text, length=16),
            ))
        return chunks

    return chunk
