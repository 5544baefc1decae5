"""The offline judge: needs no model beyond exorag's embedding model, and no network.

A claim is scored by how much of it the evidence covers (content words), how close in meaning it
is to the nearest evidence sentence (embedding cosine), and by hard checks for the errors that
overlap alone misses in biomedical text:

- an entity of the claim (gene, protein, miRNA, cell line: ``miR-21``, ``PD-L1``, ``HIF-1α``)
  absent from the evidence, compared as whole ids so ``miR-21`` does not match ``miR-210``;
- a number of the claim (``1%``, ``3``, ``tenfold``) absent from the evidence;
- a negation the evidence does not make, or a claim that asserts what the evidence negates;
- an effect whose direction the evidence reverses (``raises`` where the evidence ``suppresses``
  the same thing).

Any failed check caps the score below the threshold. Partial support (a claim that adds an
unsupported clause) shows only as lower coverage, which this judge catches less reliably.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import Stemmer

from exorag.config import Settings, get_settings
from exorag.text import STOPWORDS, normalise, numbers_in, split_sentences, strip_citations, tokenize

from evals.judges.base import Judge

_GREEK = "\u03b1-\u03c9\u0391-\u03a9"
_WORD = re.compile(rf"[\w{_GREEK}]+(?:['\-/.][\w{_GREEK}]+)*%?")
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]]|\bbut\b|\bwhereas\b|\bwhile\b")
_NEGATIONS = frozenset("not no never neither nor cannot without lack lacks lacking absent absence unable none".split())
_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20", "thirty": "30",
    "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "million": "1e6",
    "half": "0.5", "twice": "2", "double": "2", "doubled": "2", "triple": "3", "tripled": "3",
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")(?:-?fold)?\b")
_UP_WORDS = """increase raise elevate enhance promote boost upregulate stimulate activate induce augment
    more higher greater heighten amplify accelerate strengthen potentiate""".split()
_DOWN_WORDS = """decrease lower reduce reduction suppress inhibit downregulate block repress impair
    attenuate less fewer silence blunt dampen diminish prevent abolish weaken deplete""".split()

COVERAGE_WEIGHT = 0.6
FAILED_CHECK_CAP = 0.3
OBJECT_WORDS = 2
NEGATION_SCOPE = 3


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _direction_stems() -> dict[str, str]:
    stems = {_stem(word): "up" for word in _UP_WORDS}
    stems.update({_stem(word): "down" for word in _DOWN_WORDS})
    return stems


def _direction(word: str) -> str | None:
    """``up``/``down`` for a word of increase or decrease (``down-regulated`` included)."""
    return _direction_stems().get(_stem(word.replace("-", "")))


def _prepare(text: str) -> str:
    return " ".join(normalise(strip_citations(text)).replace("\u2013", "-").replace("\u2014", "-").split())


# --- entities and numbers ------------------------------------------------------------------------


def _entity_key(token: str) -> str:
    return token.casefold().replace("-", "").replace(".", "")


def claim_entities(text: str) -> set[str]:
    """Named ids in ``text``: tokens with a letter and a digit, a Greek letter, two capitals or an
    inner capital (``miR-21``, ``IL-1β``, ``PTEN``, ``EphA2``); a plural ``s`` after capitals is
    dropped (``MMPs``). Alternatives joined by ``/`` count separately. Keys ignore case and hyphens.
    """
    # Case matters for spotting ids, so only NFKC and the β look-alikes are normalised here.
    text = unicodedata.normalize("NFKC", strip_citations(text)).replace("ẞ", "β").replace("ß", "β")
    entities: set[str] = set()
    for match in _WORD.finditer(text):
        for token in match.group(0).rstrip("%").split("/"):
            token = token.strip(".-'")
            if re.fullmatch(r"[A-Z]{2,}s", token):
                token = token[:-1]
            letters = re.search(rf"[A-Za-z{_GREEK}]", token)
            is_number_phrase = _NUMBER_WORD.fullmatch(token.split("-", 1)[-1].casefold()) is not None
            if not letters or is_number_phrase:
                continue
            if (
                re.search(r"\d", token)
                or re.search(rf"[{_GREEK}]", token)
                or len(re.findall(r"[A-Z]", token)) >= 2
                or re.search(r"[a-z][A-Z]", token)
            ):
                entities.add(_entity_key(token))
    return entities


def evidence_entity_keys(text: str) -> set[str]:
    """Every key under which an id of ``text`` may be named: whole, and each hyphen/slash part."""
    keys: set[str] = set()
    for match in _WORD.finditer(normalise(strip_citations(text))):
        token = match.group(0).rstrip("%").strip(".-'")
        keys.add(_entity_key(token))
        for part in token.split("/"):
            # Every run of hyphen pieces: ``miR-1273f-containing`` also names ``miR-1273f``.
            pieces = part.split("-")
            keys.update(
                _entity_key("".join(pieces[start:end]))
                for start in range(len(pieces))
                for end in range(start + 1, len(pieces) + 1)
            )
        if re.fullmatch(r"[a-z]{2,}s", token):
            keys.add(token[:-1])
    return keys


def numbers_of(text: str) -> set[str]:
    """Numbers in ``text`` outside citations, written in digits or in words (``tenfold`` -> 10)."""
    digits = {value.rstrip("%") + ("%" if value.endswith("%") else "") for value in numbers_in(text)}
    words = {_NUMBER_WORDS[word] for word in _NUMBER_WORD.findall(normalise(strip_citations(text)))}
    return digits | words


# --- sentence structure: negation and direction of effect ----------------------------------------


@dataclass
class _Sentence:
    """One sentence as a sequence of words, with its clauses and content stems."""

    text: str
    words: list[str] = field(default_factory=list)
    clause_of: list[int] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, text: str) -> _Sentence:
        sentence = cls(text)
        for clause_number, clause in enumerate(_CLAUSE_BREAK.split(_prepare(text))):
            for match in _WORD.finditer(clause):
                sentence.words.append(match.group(0))
                sentence.clause_of.append(clause_number)
        sentence.terms = set(tokenize(text))
        return sentence

    def content(self, position: int) -> set[str]:
        """Content stems of the word at ``position`` (its hyphen/slash parts too)."""
        word = self.words[position]
        if word in STOPWORDS or word in _NEGATIONS:
            return set()
        return set(tokenize(word))

    def is_negation(self, position: int) -> bool:
        word = self.words[position]
        return word in _NEGATIONS or word.endswith("n't") or (word in {"fail", "fails", "failed"})

    def negated_terms(self) -> set[str]:
        """Content stems of up to NEGATION_SCOPE content words after each negation, in its clause."""
        scope: set[str] = set()
        for position in range(len(self.words)):
            if not self.is_negation(position):
                continue
            taken = 0
            for following in range(position + 1, len(self.words)):
                if self.clause_of[following] != self.clause_of[position] or taken == NEGATION_SCOPE:
                    break
                if terms := self.content(following):
                    scope |= terms
                    taken += 1
        return scope

    def has_negation(self) -> bool:
        return any(self.is_negation(position) for position in range(len(self.words)))

    def effects(self) -> list[tuple[str, set[str]]]:
        """``(direction, object stems)`` for each word of increase or decrease: its direction and
        the first OBJECT_WORDS content words after it in its clause (``suppressing their
        activation`` -> down on activ)."""
        effects: list[tuple[str, set[str]]] = []
        for position, word in enumerate(self.words):
            direction = _direction(word)
            if direction is None:
                continue
            objects: set[str] = set()
            taken = 0
            for following in range(position + 1, len(self.words)):
                if self.clause_of[following] != self.clause_of[position] or taken == OBJECT_WORDS:
                    break
                if terms := self.content(following):
                    objects |= terms
                    taken += 1
            if objects:
                effects.append((direction, objects))
        return effects


def _overlap(claim: _Sentence, sentence: _Sentence) -> float:
    return len(claim.terms & sentence.terms) / len(claim.terms) if claim.terms else 0.0


def structural_problems(claim_text: str, evidence_text: str) -> list[str]:
    """The hard checks (entities, numbers, negation, direction), as readable problems."""
    problems: list[str] = []
    missing_entities = claim_entities(claim_text) - evidence_entity_keys(evidence_text)
    if missing_entities:
        problems.append(f"entity not in evidence: {', '.join(sorted(missing_entities))}")
    missing_numbers = numbers_of(claim_text) - numbers_of(evidence_text)
    if missing_numbers:
        problems.append(f"number not in evidence: {', '.join(sorted(missing_numbers))}")

    claim = _Sentence.parse(claim_text)
    sentences = [_Sentence.parse(evidence_text[start:end]) for start, end in split_sentences(evidence_text)]
    if not sentences or not claim.terms:
        return problems
    best = max(sentences, key=lambda sentence: _overlap(claim, sentence))
    if claim.has_negation():
        scope = claim.negated_terms()
        # The evidence must negate too, in a sentence about the negated words (or the closest one).
        about = [s for s in sentences if scope and len(scope & s.terms) * 2 >= len(scope)] or [best]
        if not any(sentence.has_negation() for sentence in about):
            problems.append("negation the evidence does not make")
    else:
        for sentence in sentences:
            negated = sentence.negated_terms() & claim.terms
            if len(negated) >= min(2, len(sentence.negated_terms())) and negated:
                problems.append(f"asserts what the evidence negates: {', '.join(sorted(negated))}")
                break

    evidence_directions: dict[str, set[str]] = {}
    for sentence in sentences:
        for direction, objects in sentence.effects():
            for term in objects:
                evidence_directions.setdefault(term, set()).add(direction)
    for direction, objects in claim.effects():
        stated = set().union(*(evidence_directions.get(term, set()) for term in objects))
        if stated and direction not in stated:
            problems.append(f"direction of effect reversed ({direction} on {', '.join(sorted(objects))})")
            break
    return problems


# --- the judge -----------------------------------------------------------------------------------


@dataclass
class Verdict:
    """The offline judge's reasons for one score."""

    score: float
    coverage: float
    similarity: float
    problems: list[str]


class OfflineJudge(Judge):
    """Content-word, entity and number coverage plus embedding similarity (see module docstring)."""

    name = "offline"
    threshold = 0.5

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self._settings = settings or get_settings()
        self._vectors: dict[str, np.ndarray] = {}
        self._vector_lock = threading.Lock()

    def _embed(self, texts: Sequence[str]) -> None:
        from exorag.embeddings import get_embeddings

        with self._vector_lock:
            missing = list(dict.fromkeys(text for text in texts if text not in self._vectors))
        if not missing:
            return
        vectors = get_embeddings(self._settings).embed_documents(missing)
        with self._vector_lock:
            self._vectors.update(zip(missing, (np.asarray(vector, dtype=np.float32) for vector in vectors)))

    @staticmethod
    def _evidence_sentences(evidence: str) -> list[str]:
        return [evidence[start:end] for start, end in split_sentences(evidence)] or [evidence]

    def verdict(self, claim: str, evidence: str) -> Verdict:
        """Score one pair with its reasons."""
        self._embed([claim, *self._evidence_sentences(evidence)])
        return self._verdict(claim, evidence)

    def _verdict(self, claim: str, evidence: str) -> Verdict:
        claim_flat = _prepare(claim).rstrip(".")
        if not claim_flat or not evidence.strip():
            return Verdict(0.0, 0.0, 0.0, ["empty claim or evidence"])
        if claim_flat in _prepare(evidence):
            return Verdict(1.0, 1.0, 1.0, [])
        claim_terms = set(tokenize(claim))
        coverage = len(claim_terms & set(tokenize(evidence))) / len(claim_terms) if claim_terms else 0.0
        claim_vector = self._vectors[claim]
        similarity = max(float(claim_vector @ self._vectors[s]) for s in self._evidence_sentences(evidence))
        similarity = min(1.0, max(0.0, similarity))
        score = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * similarity
        problems = structural_problems(claim, evidence)
        if problems:
            score = min(score, FAILED_CHECK_CAP)
        return Verdict(round(score, 4), round(coverage, 4), round(similarity, 4), problems)

    def score_many(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        texts = [text for claim, evidence in pairs for text in (claim, *self._evidence_sentences(evidence))]
        self._embed(texts)
        return [self._verdict(claim, evidence).score for claim, evidence in pairs]
