"""The rule-based judge: needs no model beyond exorag's embedding model, and no network; the
fallback when no learned judge is trained.

A claim is scored by how much of it the evidence covers (content words), how close in meaning it
is to the nearest evidence sentence (embedding cosine), and by hard checks for the errors that
overlap alone misses in biomedical text:

- an entity of the claim (gene, protein, miRNA, cell line: ``miR-21``, ``PD-L1``, ``HIF-1α``)
  absent from the evidence, compared as whole ids so ``miR-21`` does not match ``miR-210``
  (an id whose words the evidence spells out, ``LVEF`` for ``left ventricular ejection
  fraction``, is present);
- a number of the claim (``1%``, ``3``, ``tenfold``, ``sixty-seven``, the ``103`` of ``27/103``)
  absent from the evidence; a share in words (``two thirds``) must come within ten points of a
  percentage in the evidence clause closest to the claim;
- a negation the evidence does not make, or a claim that asserts what the evidence negates (a
  claim that states no effect, ``unrelated to``, and no effect of its own asserts nothing; a
  negation in other words than the evidence's agrees with any denial there);
- an effect whose direction the evidence reverses (``raises`` where the evidence ``suppresses``
  the same thing, ``better`` where it says ``worse``, "holds back" where it ``promotes``,
  ``anti-inflammatory`` where it says ``pro-inflammatory``);
- a specific term swapped for another in the same frame (``prostate cancer cells`` where the
  evidence says ``breast cancer cells``); a verb (``acquire`` for ``confers``) is another
  wording, not a swap.

Any failed check caps the score below the threshold, and the verdict is ``contradicted`` when the
evidence otherwise covers the claim (``not_found`` when it does not). A rare word (a drug, a tissue,
a method) that the evidence lacks lowers the score, unless the evidence holds another form of it
(``hypoxic`` for ``hypoxia``). Partial support
(a claim that adds an unsupported clause in common words) shows only as lower coverage, which this
judge catches less reliably.
The checks are word rules for English biomedical prose, not a model: they miss paraphrased
contradictions (``directs them to the lung`` against a table that says liver).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from exorag.config import Settings, get_settings
from exorag.judge.base import Judge, JudgeResult, best_sentence, evidence_windows
from exorag.polarity import (
    NEGATIONS,
    OPPOSITE,
    Direction,
    denies_effect,
    direction_of,
    is_negation,
    opposed_prefix,
    reword_effect_phrases,
    reword_negation_phrases,
)
from exorag.text import (
    GREEK_NAMES,
    NUMBER_WORDS,
    STOPWORDS,
    entity_key,
    entity_kind,
    named_entities,
    normalise,
    numbers_in,
    split_sentences,
    strip_citations,
    tokenize,
    unify_greek,
)

_GREEK = "\u03b1-\u03c9\u0391-\u03a9"
_WORD = re.compile(rf"[\w{_GREEK}]+(?:['\-/.][\w{_GREEK}]+)*%?")
_CLAUSE_BREAK = re.compile(r"[,;:]|\bbut\b|\bwhereas\b|\bwhile\b")
_NUMBER_WORD = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")(?:-?fold)?\b")

COVERAGE_WEIGHT = 0.6
FAILED_CHECK_CAP = 0.3
OBJECT_WORDS = 3
NEGATION_SCOPE = 3
# A claim word this rare in English (wordfreq's Zipf scale) that the evidence lacks is likely a
# fact of its own (a drug, a tissue, a method), and costs RARE_TERM_PENALTY.
RARE_ZIPF = 3.0
RARE_TERM_PENALTY = 0.35
# A swapped term is specific: both it and the evidence term it replaces are rarer than this.
SPECIFIC_ZIPF = 4.5
# A word whose past tense is this common (Zipf) is read as a verb, not as a swappable term.
VERB_PAST_ZIPF = 3.3
# ... and at most this much rarer than the word itself ("signal" is 1.5 commoner than "signaled": a noun).
VERB_MARGIN = 0.3
# Two words are forms of one when they share this many first letters and end in at most this many others.
VARIANT_PREFIX = 6
VARIANT_ENDING = 4


@lru_cache(maxsize=50_000)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return max((zipf_frequency(part, "en") for part in re.split(r"[-/]", word) if part), default=0.0)


def _prepare(text: str) -> str:
    return " ".join(normalise(strip_citations(text)).replace("\u2013", "-").replace("\u2014", "-").split())


@lru_cache(maxsize=50_000)
def _words(text: str) -> tuple[str, ...]:
    """The words of ``text`` as ``_prepare`` writes it, in order (a claim's evidence is read by several checks)."""
    return tuple(match.group(0) for match in _WORD.finditer(_prepare(text)))


# --- entities and numbers ------------------------------------------------------------------------


_SPACED_GREEK = re.compile(r"(?<=\d) (alpha|beta|gamma|delta|kappa)\b", re.IGNORECASE)
# A digit in brackets after an id with a capital ("EtCO(2)"); "metastasis(23)" is a citation.
_BRACKETED_DIGIT = re.compile(r"\b(\w*[A-Z]\w*)\((\d)\)")


def _id_text(text: str) -> str:
    """``text`` outside citations with ids written one way: NFKC, the β look-alikes as β, a Greek
    letter spelled out after a digit and a space as the letter ("interleukin-1 beta" is
    "interleukin-1β"), a bracketed digit joined ("EtCO(2)" is "EtCO2"). Case is kept: it marks an id."""
    text = _SPACED_GREEK.sub(lambda m: GREEK_NAMES[m.group(1).lower()], unify_greek(strip_citations(text)))
    return _BRACKETED_DIGIT.sub(r"\1\2", text)


def claim_entities(text: str) -> set[str]:
    """Keys of the named entities of ``text`` (``miR-21``, ``IL-1β``, ``PTEN``, ``EphA2``; see
    ``text.named_entities``), outside citations."""
    return {entity_key(name) for _, _, name, _ in named_entities(_id_text(text))}


def evidence_entity_keys(text: str) -> set[str]:
    """Every key under which an id of ``text`` may be named: whole, each run of its hyphen pieces,
    each ``/`` alternative (``TET1/2/3`` also names ``TET2`` and ``TET3``), and the initials of
    word runs (``return on investment`` names ``ROI``)."""
    keys: set[str] = set()
    words = [match.group(0).rstrip("%").strip(".-'") for match in _WORD.finditer(normalise(_id_text(text)))]
    for token in words:
        keys.add(entity_key(token))
        alternatives = token.split("/")
        family = re.match(r"(.*?[a-zα-ω])\d+$", alternatives[0])
        for part in alternatives:
            if family and part.isdigit():
                part = family.group(1) + part
            pieces = part.split("-")
            keys.update(
                entity_key("".join(pieces[start:end]))
                for start in range(len(pieces))
                for end in range(start + 1, len(pieces) + 1)
            )
        if re.fullmatch(r"[a-z]{2,}s", token):
            keys.add(token[:-1])
    for size in range(2, 6):
        keys.update("".join(word[0] for word in words[i : i + size]) for i in range(len(words) - size + 1))
    return keys


# The second number of a ratio ("27/103"), which ``numbers_in`` leaves out with ids like "TET1/2/3".
_RATIO = re.compile(r"(?<![\w./])\d+(?:\.\d+)?/(\d+(?:\.\d+)?)(?![\w/])")
_PAIRED_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:vs\.?|versus|to|and|or|-|\u2013)\s*\d+(?:\.\d+)?\s?%")
_TENS = {"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
_UNITS = {"one": 1, **{word: int(value) for word, value in NUMBER_WORDS.items() if value.isdigit() and int(value) < 10}}
_TEENS = {"thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_COMPOUND = re.compile(r"\b(" + "|".join(_TENS) + r")[-\s](" + "|".join(_UNITS) + r")\b")
_TEEN = re.compile(r"\b(" + "|".join(_TEENS) + r")\b")
# A share in words ("over half", "a third", "two thirds", "three quarters"), as a percentage.
_FRACTION = re.compile(r"\b(?<!first )(?<!second )(?:(a|an|one|two|three)[\s-]+)?(half|thirds?|quarters?)\b(?!-life)")
_FRACTION_SIZE = {"half": 50.0, "third": 100 / 3, "thirds": 100 / 3, "quarter": 25.0, "quarters": 25.0}
_NUMERATOR = {None: 1, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3}
# A share as so many in a few ("three in four", "1 out of 5"), as a percentage.
# Cardinals only: "twice in 5 years" or "the second in 3 trials" state no share.
_SMALL = {word: count for count, word in enumerate(
    ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"], start=1)}
_SMALL_NUMBER = r"(" + "|".join(_SMALL) + r"|10|[1-9])"
_IN_EVERY = re.compile(r"(?<![\d.,])\b" + _SMALL_NUMBER + r"\s+(?:in|out of)\s+(?:every\s+)?" + _SMALL_NUMBER + r"\b(?![.,]\d)",
                       re.IGNORECASE)
# A share in words stands for any percentage within this many points ("a third" for 36.9%).
SHARE_TOLERANCE = 10.0
_DECADES = re.compile(r"\b(two|three|four|five|six|seven|eight|nine)\s+decades\b")


def _is_share(numerator: str | None, noun: str) -> bool:
    """Whether a fraction word is a share: "half", "a third", "thirds"; "third" alone is an ordinal."""
    return noun == "half" or bool(numerator) or noun.endswith("s")


def shares_of(text: str) -> set[float]:
    """Shares written in words (``two thirds`` -> 66.7, ``three in four`` -> 75), as percentages."""
    plain = normalise(strip_citations(text))
    return {100 * part / whole for part, whole in _in_every(plain)} | {
        _NUMERATOR.get(numerator or None, 1) * _FRACTION_SIZE[noun]
        for numerator, noun in _FRACTION.findall(plain) if _is_share(numerator, noun)}


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _SMALL[word.casefold()]


def _in_every(text: str) -> list[tuple[int, int]]:
    """The shares of ``text`` written as so many in a few, as counts (``three in four`` -> (3, 4));
    the first must be the smaller ("at week 6 in 4 patients" holds no share)."""
    return [(part, whole) for part, whole in ((_count(a), _count(b)) for a, b in _IN_EVERY.findall(text)) if part < whole]


def numbers_of(text: str) -> set[str]:
    """Numbers in ``text`` outside citations, in digits or in words (``tenfold`` -> 10, ``sixty-seven``
    -> 67, ``three decades`` -> 30); a number paired with a percentage is one too ("62 vs. 6%"
    states 62%). Shares in words ("two thirds", "three in four") are ``shares_of``'s, not numbers."""
    text = _IN_EVERY.sub(lambda m: " " if _count(m.group(1)) < _count(m.group(2)) else m.group(0), text)
    plain = normalise(strip_citations(text))
    found = numbers_in(text) | set(_RATIO.findall(plain)) | {n + "%" for n in _PAIRED_PERCENT.findall(plain)}
    found |= {str(_TENS[tens] + _UNITS[unit]) for tens, unit in _COMPOUND.findall(plain)}
    found |= {str(_TEENS[teen]) for teen in _TEEN.findall(plain)}
    found |= {str(10 * _UNITS[count]) for count in _DECADES.findall(plain)}
    plain = _DECADES.sub(" ", _COMPOUND.sub(" ", plain))
    plain = _FRACTION.sub(lambda m: " " if _is_share(m.group(1), m.group(2)) else m.group(0), plain)
    return found | {NUMBER_WORDS[word] for word in _NUMBER_WORD.findall(plain)}


def missing_numbers(claim_text: str, evidence_text: str) -> set[str]:
    """The claim's numbers the evidence does not state, and its shares in words that no percentage
    comes within SHARE_TOLERANCE of in the evidence clause closest to the claim clause stating them."""
    claimed, stated = numbers_of(claim_text), numbers_of(evidence_text)
    # "62 vs. 6%" in the claim states 62% too, which the evidence may write "62%".
    missing = {n for n in claimed - stated if not (n + "%" in claimed and n + "%" in stated)}
    evidence_clauses = [clause for start, end in split_sentences(evidence_text)
                        for clause in _CLAUSE_BREAK.split(evidence_text[start:end])] or [""]
    for claim_clause in _CLAUSE_BREAK.split(claim_text):
        # A share whose two counts the evidence states ("3 in 4 patients": "of the 4 patients, 3") is stated.
        counted = {100 * part / whole for part, whole in _in_every(normalise(claim_clause)) if {str(part), str(whole)} <= stated}
        if not (shares := shares_of(claim_clause) - counted):
            continue
        # A share that glosses a percentage of its clause ("two thirds (66.9%)") is checked as that number.
        glossed = {float(n.rstrip("%")) for n in numbers_of(claim_clause) if n.endswith("%")}
        clause_terms = set(tokenize(claim_clause))
        closest = max(evidence_clauses, key=lambda clause: len(clause_terms & set(tokenize(clause))))
        percentages = {float(n.rstrip("%")) for n in numbers_in(closest) if n.endswith("%")} | shares_of(closest)
        for share in shares:
            if not any(abs(share - percentage) <= SHARE_TOLERANCE for percentage in percentages | glossed):
                missing.add(f"{share:.0f}%")
    return missing


# --- sentence structure: negation, direction of effect, swapped terms ----------------------------


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
        prepared = reword_effect_phrases(reword_negation_phrases(_prepare(text)))
        for clause_number, clause in enumerate(_CLAUSE_BREAK.split(prepared)):
            for match in _WORD.finditer(clause):
                sentence.words.append(match.group(0))
                sentence.clause_of.append(clause_number)
        sentence.terms = set(tokenize(text))
        return sentence

    def content(self, position: int) -> set[str]:
        """Content stems of the word at ``position`` (its hyphen/slash parts too)."""
        word = self.words[position]
        if word in STOPWORDS or word in NEGATIONS:
            return set()
        return set(tokenize(word))

    def content_positions(self) -> list[int]:
        return [position for position in range(len(self.words)) if self.content(position)]

    def is_negation(self, position: int) -> bool:
        return is_negation(self.words[position])

    def _following(self, position: int, count: int) -> set[str]:
        """Content stems of up to ``count`` content words after ``position``, in its clause."""
        stems: set[str] = set()
        taken = 0
        for following in range(position + 1, len(self.words)):
            if self.clause_of[following] != self.clause_of[position] or taken == count:
                break
            if terms := self.content(following):
                stems |= terms
                taken += 1
        return stems

    def negated_terms(self) -> set[str]:
        """What the sentence denies: the first NEGATION_SCOPE content words after each negation."""
        scope: set[str] = set()
        for position in range(len(self.words)):
            if self.is_negation(position):
                scope |= self._following(position, NEGATION_SCOPE)
        return scope

    def has_negation(self) -> bool:
        return any(self.is_negation(position) for position in range(len(self.words)))

    def effects(self) -> list[tuple[Direction, set[str]]]:
        """``(direction, object stems)`` for each word stating an effect: its direction and the first
        OBJECT_WORDS content words after it in its clause (``suppresses glycolytic enzymes``)."""
        effects = []
        for position, word in enumerate(self.words):
            direction = direction_of(word)
            if direction is not None and (objects := self._following(position, OBJECT_WORDS)):
                effects.append((direction, objects))
        return effects


def negation_problem(claim: _Sentence, sentences: list[_Sentence]) -> str | None:
    """A claim that denies what the evidence does not deny, or asserts what the evidence denies."""
    denied_by_evidence = set().union(*(sentence.negated_terms() for sentence in sentences))
    if claim.has_negation():
        denied = claim.negated_terms()
        evidence_denies = any(s.has_negation() or denies_effect(s.text.casefold()) for s in sentences)
        # A negation in other words than the evidence's ("not a dependable way" for "not a reliable
        # criterion") cannot be matched term by term: any denial of the evidence agrees with it.
        reworded = not denied & set().union(*(s.terms for s in sentences))
        agrees = denied & denied_by_evidence or (evidence_denies and (reworded or not denied))
        return None if agrees else "negation the evidence does not make"
    if denies_effect(claim.text.casefold()) and not any(direction_of(word) for word in claim.words):
        return None  # "unrelated to", "similar", and no effect stated: the claim itself says there is none
    for sentence in sentences:
        scope = sentence.negated_terms()
        asserted = scope & claim.terms
        if asserted and len(asserted) >= min(2, len(scope)):
            return f"asserts what the evidence negates: {', '.join(sorted(asserted))}"
    return None


def reversed_effect(claim: _Sentence, sentences: list[_Sentence]) -> str | None:
    """An effect the claim states where the evidence states the opposite effect on the same thing:
    the evidence effects whose objects share most with the claim's all have the opposite direction."""
    for sentence in sentences:
        if word := opposed_prefix(claim.text.casefold(), sentence.text.casefold()):
            return f"direction of effect reversed ({word})"
    stated = [effect for sentence in sentences for effect in sentence.effects()]
    for direction, objects in claim.effects():
        shared = [(len(objects & evidence_objects), evidence_direction) for evidence_direction, evidence_objects in stated]
        most = max((count for count, _ in shared), default=0)
        closest = {evidence_direction for count, evidence_direction in shared if count == most and most > 0}
        if closest == {OPPOSITE[direction]}:
            return f"direction of effect reversed ({direction} on {', '.join(sorted(objects))})"
    return None


def _keys(sentence: _Sentence) -> list[tuple[str, set[str]]]:
    return [(sentence.words[p], sentence.content(p)) for p in sentence.content_positions()]


def _reads_as_verb(word: str) -> bool:
    """Whether ``word`` reads mostly as a verb: its past tense is in common use and about as common
    as the word itself (``engage``: engaged, ``pushes``: pushed), which a noun's is not (``rat``,
    ``gut``, ``signal``, ``prostate``)."""
    base = re.sub(r"(?:(?<=[sxz])|(?<=[sc]h))es$|(?<![su])s$", "", word) if len(word) > 4 else word
    if len(base) <= 4 and re.search(r"[^aeiou][aeiou][^aeiouwxy]$", base):
        pasts = {base + base[-1] + "ed"}  # "rat" makes "ratted": "rated" is another verb's
    else:
        pasts = {base + "d" if base.endswith("e") else base + "ed", base + base[-1:] + "ed"}
    past = max(_zipf(form) for form in pasts)
    return past >= VERB_PAST_ZIPF and past >= _zipf(word) - VERB_MARGIN


def _swappable(word: str) -> bool:
    """A specific noun-like word: letters, rarer than SPECIFIC_ZIPF, not a verb form or an effect."""
    return (
        re.search("[a-z]", word) is not None
        and _zipf(word) < SPECIFIC_ZIPF
        and not re.search(r"(ing|ed)$", word)
        and direction_of(word) is None
    )


def _variants(first: str, second: str) -> bool:
    """Word-form or spelling variants (``fuse``/``fusion``, ``neighbouring``/``neighboring``)."""
    shared = min(4, min(len(first), len(second)) - 1)
    return first[:shared] == second[:shared]


def acronyms_in(text: str) -> set[str]:
    """Abbreviations written in ``text`` (``ILV``, ``mAb``, ``EVs``), casefolded, plural ``s`` dropped."""
    words = re.findall(r"\b[A-Za-z]{2,6}\b", strip_citations(text))
    return {entity_key(word) for word in words if entity_kind(word) in ("acronym", "mixed")}


def swapped_term(claim: _Sentence, sentences: list[_Sentence]) -> str | None:
    """A specific claim word missing from the evidence where the evidence has another specific word
    in the same frame: the same neighbours on both sides, or the same two neighbours on one side
    (``prostate cancer cells`` against ``breast cancer cells``)."""
    claim_words = _keys(claim)
    everything = set().union(*(sentence.terms for sentence in sentences))
    # Ids and abbreviations are the entity check's business; here only plain words are compared.
    abbreviations = set().union(*(acronyms_in(sentence.text) for sentence in sentences))

    def same(words: list[tuple[str, set[str]]], index: int, other: list[tuple[str, set[str]]], other_index: int) -> bool:
        inside = 0 <= index < len(words) and 0 <= other_index < len(other)
        return inside and bool(words[index][1] & other[other_index][1])

    spelled = [w for sentence in sentences for w in sentence.words]
    claim_acronyms = acronyms_in(claim.text)
    # A capitalised word inside the claim is a name ("Notch signalling"), however it may read as a verb.
    names = {word.casefold() for word in re.findall(r"(?<=[\w,;] )[A-Z][a-z]+", claim.text)}
    for i, (word, terms) in enumerate(claim_words):
        # An acronym the evidence spells out (PSA, "prostate specific antigen") is no swap.
        # Another verb for the event ("acquire" for "confers") is another wording, not a swapped term.
        if (terms & everything or not _swappable(word) or (_reads_as_verb(word) and word not in names)
                or (word in claim_acronyms and _spelled_in(word, spelled))):
            continue
        for sentence in sentences:
            evidence_words = _keys(sentence)
            for j, (candidate, candidate_terms) in enumerate(evidence_words):
                if (
                    candidate_terms & claim.terms
                    or candidate in abbreviations
                    or not _swappable(candidate)
                    or _variants(word, candidate)
                    or same_word(word, candidate)
                ):
                    continue
                left = same(claim_words, i - 1, evidence_words, j - 1)
                right = same(claim_words, i + 1, evidence_words, j + 1)
                two_left = left and same(claim_words, i - 2, evidence_words, j - 2)
                two_right = right and same(claim_words, i + 2, evidence_words, j + 2)
                if (left and right) or two_left or two_right:
                    return f"term swapped: {word} where the evidence says {candidate}"
    return None


def structural_problems(claim_text: str, evidence_text: str) -> list[str]:
    """The hard checks (entities, numbers, negation, direction, swapped terms), as problems."""
    problems: list[str] = []
    evidence_words = _words(evidence_text)
    # An id whose words the evidence spells out ("LVEF" for "left ventricular ejection fraction") is stated.
    missing_entities = {key for key in claim_entities(claim_text) - evidence_entity_keys(evidence_text)
                        if not _spelled_in(key, evidence_words)}
    if missing_entities:
        problems.append(f"entity not in evidence: {', '.join(sorted(missing_entities))}")
    if absent := missing_numbers(claim_text, evidence_text):
        problems.append(f"number not in evidence: {', '.join(sorted(absent))}")
    claim = _Sentence.parse(claim_text)
    sentences = [_Sentence.parse(evidence_text[start:end]) for start, end in split_sentences(evidence_text)]
    if sentences and claim.terms:
        for check in (negation_problem, reversed_effect, swapped_term):
            if problem := check(claim, sentences):
                problems.append(problem)
    return problems


def _spells(acronym: str, words: Sequence[str]) -> bool:
    """Whether ``words`` spell out ``acronym``: each word gives its first letter, and the rest of
    the acronym's letters come in order from inside the words (``intraluminal vesicles`` = ILV)."""
    if not words:
        return not acronym
    word = words[0]
    if not acronym or acronym[0] != word[0]:
        return False
    # The first letter is the word's own; later letters of this word may be taken in order.
    taken = 1
    for position in range(1, len(word) + 1):
        if _spells(acronym[taken:], words[1:]):
            return True
        if taken < len(acronym) and position < len(word) and word[position] == acronym[taken]:
            taken += 1
    return False


def _british_to_plain(word: str) -> str:
    return word.replace("ae", "e").replace("oe", "e")


_NEGATIVE_PREFIX = re.compile(r"^(?:un|non-?)(?=\w{4})")


def same_word(first: str, second: str) -> bool:
    """Two forms of one word: a shared stem of at least VARIANT_PREFIX letters and endings of at
    most VARIANT_ENDING letters (``exosomal``/``exosomes``, ``hypoxia``/``hypoxic``; not
    ``hepatoma``/``hepatocytes``), read with British "ae"/"oe" as "e" (``anaesthesia``), and with
    either negative prefix (``unshaved``/``nonshaved``)."""
    first, second = _british_to_plain(first), _british_to_plain(second)
    if _NEGATIVE_PREFIX.match(first) and _NEGATIVE_PREFIX.match(second):
        first, second = _NEGATIVE_PREFIX.sub("non", first), _NEGATIVE_PREFIX.sub("non", second)
    shared = len(os.path.commonprefix([first, second]))
    return first == second or (shared >= VARIANT_PREFIX and max(len(first), len(second)) - shared <= VARIANT_ENDING)


def rare_missing_terms(claim_text: str, evidence_text: str) -> list[str]:
    """Claim words rarer than RARE_ZIPF that the evidence lacks (likely facts of their own); a word
    inside an evidence word (``tropism`` in ``organotropism``), another form of an evidence word,
    a word stating an effect (the direction check reads those), an acronym the evidence spells out
    (``LVEF`` for ``left ventricular ejection fraction``) or words an evidence acronym spells out
    (``intraluminal vesicles`` for ``ILV``) are not missing."""
    evidence_terms = set(tokenize(evidence_text))
    evidence_sequence = _words(evidence_text)
    evidence_words = set(evidence_sequence)
    acronyms = acronyms_in(evidence_text)
    claim_words = _words(claim_text)
    claim_acronyms = acronyms_in(claim_text)
    spelled_out: set[int] = set()
    for size in range(2, 6):
        for start in range(len(claim_words) - size + 1):
            if any(_spells(acronym, claim_words[start : start + size]) for acronym in acronyms):
                spelled_out.update(range(start, start + size))
    rare = []
    for position, word in enumerate(claim_words):
        terms = set(tokenize(word))
        if (
            terms
            and not terms & evidence_terms
            and re.fullmatch(r"[a-z-]+", word)
            and _zipf(word) < RARE_ZIPF
            and position not in spelled_out
            and not any(len(word) >= 5 and word in other or same_word(word, other) for other in evidence_words)
            and direction_of(word) is None
            and not (word in claim_acronyms and _spelled_in(word, evidence_sequence))
        ):
            rare.append(word)
    return rare


def _spelled_in(acronym: str, words: Sequence[str]) -> bool:
    """Whether ``acronym`` is the initials of 2 to 6 consecutive ``words`` (or of their hyphen
    parts, a number counting whole): ``LVEF`` of "left ventricular ejection fraction", ``PI3K``
    of "phosphatidyl-inositol 3-kinase". A stop word breaks the run ("than found" is no TNF)."""
    parts = [part for word in words for part in re.split(r"-", word) if part]
    for start in range(len(parts)):
        initials = ""
        for part in parts[start : start + 6]:
            if part in STOPWORDS:
                break
            initials += part if part.isdigit() else part[0]
            if initials == acronym and len(initials) >= 2:
                return True
            if not acronym.startswith(initials):
                break
    return False


# --- the judge -----------------------------------------------------------------------------------

# Below the threshold, a claim this well covered is partly supported; less covered, not found.
PARTIAL_FLOOR = 0.35
# Below this coverage a claim speaks of something else: its failed checks make it not found.
CONTRADICTION_COVERAGE = 0.5
# A name or number the evidence lacks, in a claim otherwise this well covered, replaces one the
# evidence states (a swap, a contradiction); in a less covered claim it is an added fact.
SWAP_COVERAGE = 0.75
_CONTRADICTING = ("negation", "asserts what", "direction", "term swapped")


@dataclass
class Reasons:
    """The rule judge's reasons for one score."""

    score: float
    coverage: float
    similarity: float
    problems: list[str]
    structural: bool = False  # a failed hard check (entity, number, negation, direction, swap)

    @property
    def contradicts(self) -> bool:
        """The evidence states something the claim gets wrong (not merely lacks what it adds)."""
        if not self.structural or self.coverage < CONTRADICTION_COVERAGE:
            return False
        return any(p.startswith(_CONTRADICTING) for p in self.problems) or self.coverage >= SWAP_COVERAGE


class RulesJudge(Judge):
    """Content-word, entity and number coverage plus embedding similarity (see module docstring)."""

    name = "rules"
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

    def embed_sentences(self, texts: Sequence[str]) -> None:
        """Embed ``texts`` and their sentences in one batch, ahead of judging many pairs."""
        self._embed([piece for text in texts for piece in (text, *self._evidence_sentences(text))])

    @staticmethod
    def _evidence_sentences(evidence: str) -> list[str]:
        return [evidence[start:end] for start, end in split_sentences(evidence)] or [evidence]

    @staticmethod
    def _verbatim(claim: str, evidence: str) -> bool:
        flat = _prepare(claim).rstrip(".")
        return bool(flat) and flat in _prepare(evidence)

    def reasons(self, claim: str, evidence: str) -> Reasons:
        """Score one pair with its reasons."""
        if not self._verbatim(claim, evidence):
            self._embed([claim, *self._evidence_sentences(evidence)])
        return self._reasons(claim, evidence)

    def _reasons(self, claim: str, evidence: str) -> Reasons:
        if not _prepare(claim).rstrip(".") or not evidence.strip():
            return Reasons(0.0, 0.0, 0.0, ["empty claim or evidence"])
        if self._verbatim(claim, evidence):
            return Reasons(1.0, 1.0, 1.0, [])
        claim_terms = set(tokenize(claim))
        coverage = len(claim_terms & set(tokenize(evidence))) / len(claim_terms) if claim_terms else 0.0
        claim_vector = self._vectors[claim]
        similarity = max(float(claim_vector @ self._vectors[s]) for s in self._evidence_sentences(evidence))
        similarity = min(1.0, max(0.0, similarity))
        score = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * similarity
        problems = structural_problems(claim, evidence)
        structural = bool(problems)
        if problems:
            score = min(score, FAILED_CHECK_CAP)
        if rare := rare_missing_terms(claim, evidence):
            problems.append(f"rare words not in evidence: {', '.join(rare)}")
            score = max(0.0, score - RARE_TERM_PENALTY * len(rare))
        return Reasons(round(score, 4), round(coverage, 4), round(similarity, 4), problems, structural)

    def _verdict(self, claim: str, passages: Sequence[str]) -> JudgeResult:
        evidence = "\n".join(passages)
        reasons = self._reasons(claim, evidence)
        windows = evidence_windows(claim, passages, keep=1)
        shown = best_sentence(claim, windows[0].text) if windows else ""
        passage = windows[0].passage if windows else None
        if reasons.score >= self.threshold:
            verdict = "supported"
        elif reasons.contradicts:
            verdict = "contradicted"
        elif reasons.score >= PARTIAL_FLOOR or reasons.coverage >= CONTRADICTION_COVERAGE:
            verdict = "partial"
        else:
            verdict = "not_found"
        return JudgeResult(verdict, reasons.score, shown, passage)

    def judge_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[JudgeResult]:
        texts = [
            text
            for claim, passages in items
            if not self._verbatim(claim, "\n".join(passages))
            for text in (claim, *self._evidence_sentences("\n".join(passages)))
        ]
        self._embed(texts)
        return [self._verdict(claim, passages) for claim, passages in items]
