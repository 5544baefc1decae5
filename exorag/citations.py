"""Parse and format the review's bracketed citations: [58], [59, 61], [170-172], [113, Figure 5].

Parsing yields the set of reference numbers (ranges expanded, duplicates collapsed) and any
non-numeric notes; formatting is canonical: sorted, runs of three or more as ``a-b``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_RANGE = re.compile(rf"^\s*(\d+)\s*[{_DASHES}]\s*(\d+)\s*$")
_NUMBER = re.compile(r"^\s*(\d+)\s*$")
_BRACKET = re.compile(r"\[([^\[\]\n]{1,200})\]")
# A range wider than this is a typo or not a citation ([1-2000] would expand to noise).
MAX_RANGE_SPAN = 200
# A reference number has at most five digits: a longer number in brackets is an id or OCR noise
# (and past 64 bits no index can store it).
MAX_REFERENCE_NUMBER = 99_999


@dataclass(frozen=True)
class Citation:
    """One bracket: its reference numbers and any notes such as ``Figure 5``."""

    numbers: frozenset[int] = field(default_factory=frozenset)
    notes: tuple[str, ...] = ()


def parse_citation(text: str) -> Citation | None:
    """Parse one bracket's text (with or without the brackets).

    Returns None when the bracket holds no reference number, so ``[sic]`` or ``[a]`` are not
    taken for citations, nor is an interval that starts at 0 (``[0, 1]``).
    """
    inner = text.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    numbers: set[int] = set()
    notes: list[str] = []
    for item in inner.split(","):
        if not item.strip():
            continue
        if (match := _NUMBER.match(item)) and int(match.group(1)) <= MAX_REFERENCE_NUMBER:
            numbers.add(int(match.group(1)))
        elif ((match := _RANGE.match(item)) and int(match.group(2)) <= MAX_REFERENCE_NUMBER
              and 0 <= int(match.group(2)) - int(match.group(1)) <= MAX_RANGE_SPAN):
            numbers.update(range(int(match.group(1)), int(match.group(2)) + 1))
        else:
            note = " ".join(item.split())
            if note not in notes:
                notes.append(note)
    # Reference lists start at 1: "[0, 1]" or "[0-10]" is an interval, not a citation.
    if not numbers or 0 in numbers:
        return None
    return Citation(frozenset(numbers), tuple(notes))


def find_citations(text: str) -> Iterator[tuple[int, int, Citation]]:
    """Yield ``(start, end, citation)`` for every citation bracket in ``text``."""
    for match in _BRACKET.finditer(text):
        citation = parse_citation(match.group(1))
        if citation is not None:
            yield match.start(), match.end(), citation


def cited_numbers(text: str) -> set[int]:
    """All reference numbers cited anywhere in ``text``."""
    numbers: set[int] = set()
    for _, _, citation in find_citations(text):
        numbers |= citation.numbers
    return numbers


def format_numbers(numbers: Iterable[int]) -> str:
    """The canonical bracket for a set of numbers: {13,14,15,16} -> ``[13-16]``; {} -> ``""``."""
    ordered = sorted(set(numbers))
    if not ordered:
        return ""
    parts: list[str] = []
    run_start = previous = ordered[0]
    for number in [*ordered[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        if previous - run_start >= 2:
            parts.append(f"{run_start}-{previous}")
        else:
            parts.extend(str(n) for n in range(run_start, previous + 1))
        if number is not None:
            run_start = previous = number
    return "[" + ", ".join(parts) + "]"


def format_citation(citation: Citation) -> str:
    """Canonical text of a citation, notes after the numbers: ``[113, Figure 5]``."""
    numbers = format_numbers(citation.numbers)
    if not citation.notes:
        return numbers
    return numbers[:-1] + ", " + ", ".join(citation.notes) + "]"


def split_ending(sentence: str, default: str = ".") -> tuple[str, str]:
    """A sentence's body and its closing punctuation (``default`` when it has none), for a citation
    to stand between them: ``... activation [170-172].``"""
    sentence = sentence.strip()
    if sentence and sentence[-1] in ".!?":
        return sentence[:-1], sentence[-1]
    return sentence, default


# "reference 182", "ref. 58", "refs 13 and 14", "citation no. 7": a reference named in words.
_NAMED_REFERENCE = re.compile(r"\b(?:references?|refs?\.?|citations?)\s*(?:no\.?|number|#)?\s*"
                              r"(\d{1,5}(?:\s*(?:,|and|&|-|\u2013)\s*\d{1,5})*)\b", re.IGNORECASE)


def asked_references(question: str) -> tuple[set[int], str]:
    """The reference numbers ``question`` names ("What does [15] say?", "Summarise reference 113"),
    and the question without them."""
    numbers: set[int] = set()

    def named(match: re.Match[str]) -> str:
        citation = parse_citation(re.sub(r"and|&", ",", match.group(1)))
        numbers.update(citation.numbers if citation else ())
        return " "

    rest = _NAMED_REFERENCE.sub(named, question)
    for start, end, citation in reversed(list(find_citations(rest))):
        numbers |= citation.numbers
        rest = rest[:start] + " " + rest[end:]
    return numbers, " ".join(rest.split())
