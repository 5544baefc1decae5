"""Synthetic (claim, evidence) pairs from a corpus's own sentences, to train the learned judge.

The recipe of FactCC and MiniCheck, which need no labelled data: take a sentence of the corpus
with a few sentences around it as evidence, and make claims from it by rule.

- supported: the sentence itself (``identity``), one clause of it (``trimmed_clause``), its
  leading clause moved to the end (``reordered``);
- contradicted: another entity of the same shape (``entity_swap``), two entities or terms
  trading places (``relation_swap``), a changed number or unit (``number_change``), a negation
  added or removed (``negation``), an effect word turned to its opposite (``direction``), an
  entity's class changed (``class_mislabel``: a kinase where the evidence says a GTPase);
- partial: the sentence with a clause of another sentence added (``added_clause``);
- not_found: a sentence from elsewhere in the corpus that shares words with the evidence
  (``unrelated``).

Every rule works on token shape, casing, numbers and general English (auxiliaries, direction
antonyms, class nouns of biology), never on one corpus's wording, so the judge learns to check
entities, numbers and relations rather than to recognise one review.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from exorag.judge.base import Verdict
from exorag.polarity import effect_verb_base, negates, opposite_word
from exorag.text import entity_key, entity_kind, named_entities, split_sentences, strip_citations, tokenize

_NUMBER = re.compile(r"(?<![\w.\-])(\d+(?:\.\d+)?)(\s?)(%|-?fold|[a-zA-Zµμ]+)?(?![\w.])")
_AUXILIARIES = "is|are|was|were|can|could|may|might|will|would|should|must|has|have|had|does|do|did"
_AUXILIARY = re.compile(rf"\b({_AUXILIARIES})\b(?! not\b)")
# A negation that can be taken out whole, leaving a sentence.
_REMOVABLE_NEGATION = re.compile(rf"\b({_AUXILIARIES}) not\b|\bcannot\b")
_CLAUSE = re.compile(r",\s+|;\s+|\s+(?:which|whereas|while|and thereby|thereby)\s+")
_LEADING = re.compile(r"^((?:In|Under|During|After|Before|Through|By|Upon|Within|Across|Among|For|With|Without|At|From|Following|Via|Using|When|Once|If)\b[^,]{3,80}),\s+(.+?)[.]?$")

# Nouns naming what kind of thing a biological entity is.
_CLASS_NOUNS = ["receptor", "ligand", "cytokine", "chemokine", "enzyme", "kinase", "phosphatase", "protease",
                "GTPase", "ATPase", "transcription factor", "growth factor", "hormone", "antibody", "antigen",
                "oncogene", "tumour suppressor", "transporter", "ion channel", "adhesion molecule", "integrin",
                "tetraspanin", "lipid", "metabolite", "microRNA", "long non-coding RNA", "chaperone",
                "scaffold protein", "ubiquitin ligase", "glycoprotein", "proteoglycan", "peptide", "toxin",
                "membrane protein", "nuclear protein", "secreted protein", "cell surface marker", "inhibitor"]
# Words ending in -ase that do not name a class of molecule.
_NOT_CLASSES = {"case", "base", "phase", "release", "increase", "decrease", "disease", "ease", "purchase",
                "database", "lease", "phrase", "showcase", "erase", "chase", "vase", "crease"}
CLASS_NOUN = re.compile(
    r"\b(?:" + "|".join(re.escape(noun) for noun in sorted(_CLASS_NOUNS, key=len, reverse=True)) + r")s?\b|\b[A-Za-z]{3,}ases?\b"
)


def class_nouns_in(text: str) -> list[re.Match]:
    """The class nouns of ``text`` (``kinase``, ``receptors``, ``transcription factor``)."""
    return [m for m in CLASS_NOUN.finditer(text) if m.group(0).lower().rstrip("s") not in _NOT_CLASSES]
_UNIT_FAMILIES = [["mg", "µg", "ng", "g"], ["ml", "µl", "l"], ["h", "min", "s", "days", "weeks"],
                  ["nm", "µm", "mm", "cm"], ["%", "-fold"], ["mM", "µM", "nM"], ["kDa", "Da"]]
_NUMBER_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twofold", "threefold",
                 "fourfold", "fivefold", "tenfold", "half", "twice", "double"]

SUPPORTED_KINDS = ("identity", "trimmed_clause", "reordered")
CONTRADICTED_KINDS = ("entity_swap", "relation_swap", "number_change", "negation", "direction", "class_mislabel")
KIND_LABEL: dict[str, Verdict] = {
    **{kind: "supported" for kind in SUPPORTED_KINDS},
    **{kind: "contradicted" for kind in CONTRADICTED_KINDS},
    "added_clause": "partial",
    "unrelated": "not_found",
}


@dataclass(frozen=True)
class Pair:
    """One synthetic training pair: ``claim`` checked against ``evidence``, and what was done."""

    claim: str
    evidence: str
    kind: str

    @property
    def label(self) -> Verdict:
        return KIND_LABEL[self.kind]


def _replace(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _match_case(word: str, like: str) -> str:
    return word[0].upper() + word[1:] if like[:1].isupper() else word


# --- positives ------------------------------------------------------------------------------------


def trimmed_clause(sentence: str) -> str | None:
    """The longest clause of ``sentence`` that can stand alone (five words or more), as a sentence;
    parenthetical asides are dropped."""
    plain = re.sub(r"\s*\([^()]*\)", "", sentence).strip().rstrip(".")
    clauses = [clause for clause in _CLAUSE.split(plain) if clause]
    if len(clauses) < 2:
        return plain + "." if plain != sentence.strip().rstrip(".") else None
    first = clauses[0]
    if _LEADING.match(plain) or len(first.split()) < 5:
        return None
    return first[0].upper() + first[1:] + "."


def reordered(sentence: str) -> str | None:
    """``In X, Y.`` -> ``Y in X.``: a leading adverbial clause moved to the end."""
    match = _LEADING.match(sentence.strip())
    if not match or len(match.group(2).split()) < 4:
        return None
    lead, rest = match.group(1), match.group(2)
    lead = lead[0].lower() + lead[1:] if not entity_kind(lead.split()[0]) else lead
    return rest[0].upper() + rest[1:].rstrip(".") + " " + lead + "."


# --- contradictions -------------------------------------------------------------------------------


def entity_swap(sentence: str, pool: dict[str, list[str]], evidence: str, rng: random.Random) -> str | None:
    """One entity replaced by another of the same shape that the evidence does not name; entities
    named elsewhere in the evidence are preferred (the hardest confusions)."""
    entities = named_entities(sentence)
    if not entities:
        return None
    start, end, token, kind = rng.choice(entities)
    evidence_keys = {entity_key(e[2]) for e in named_entities(evidence)}
    nearby = [e[2] for e in named_entities(evidence) if e[3] == kind and entity_key(e[2]) not in {entity_key(x[2]) for x in entities}]
    others = [candidate for candidate in pool.get(kind, []) if entity_key(candidate) not in evidence_keys]
    choices = nearby or others
    if not choices:
        return None
    return _replace(sentence, start, end, rng.choice(choices))


def relation_swap(sentence: str, rng: random.Random) -> str | None:
    """Two different entities of ``sentence`` trade places (``A binds B`` -> ``B binds A``); without
    two entities, two rare content words do."""
    entities = named_entities(sentence)
    distinct = {entity_key(e[2]): e for e in entities}
    if len(distinct) >= 2:
        first, second = sorted(rng.sample(list(distinct.values()), 2))
    else:
        words = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\b[a-z]{5,}\b", sentence)]
        from exorag.judge.rules import _zipf

        rare = [w for w in words if _zipf(w[2]) < 4.0 and not w[2].endswith(("ing", "ed", "ly")) and not opposite_word(w[2])]
        distinct_rare = {w[2]: w for w in rare}
        if len(distinct_rare) < 2:
            return None
        first, second = sorted(rng.sample(list(distinct_rare.values()), 2))
    if second[0] - first[1] < 3:
        return None
    return sentence[: first[0]] + second[2] + sentence[first[1] : second[0]] + first[2] + sentence[second[1] :]


def number_change(sentence: str, rng: random.Random) -> str | None:
    """A number changed (scaled or shifted), or its unit swapped within a family (mg -> µg)."""
    plain = strip_citations(sentence)
    matches = [m for m in _NUMBER.finditer(plain)]
    if not matches:
        words = [m for m in re.finditer(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", plain, re.IGNORECASE)]
        if not words:
            return None
        match = rng.choice(words)
        replacement = rng.choice([w for w in _NUMBER_WORDS if w != match.group(0).lower()])
        return _replace(plain, match.start(), match.end(), _match_case(replacement, match.group(0)))
    match = rng.choice(matches)
    value, space, unit = match.group(1), match.group(2), match.group(3) or ""
    family = next((f for f in _UNIT_FAMILIES if unit in f), None)
    if family and rng.random() < 0.3:
        unit = rng.choice([u for u in family if u != unit])
        return _replace(plain, match.start(), match.end(), value + space + unit)
    number = float(value)
    decimals = len(value.split(".")[1]) if "." in value else 0
    factor = rng.choice([0.5, 2, 3, 10, 0.1]) if number else 1
    changed = number * factor if number else rng.randint(1, 9)
    if 1900 < number < 2100 and not decimals:
        changed = number + rng.choice([-3, -2, -1, 1, 2, 3])
    text = f"{changed:.{decimals}f}" if decimals else str(int(round(changed)))
    if text == value:
        text = str(int(number) + rng.randint(1, 9)) if not decimals else f"{number + 1:.{decimals}f}"
    return _replace(plain, match.start(1), match.end(1), text)


def negation(sentence: str, rng: random.Random) -> str | None:
    """A negation removed when the sentence has one; otherwise ``not`` after the first auxiliary,
    or ``does not`` / ``did not`` before an effect verb."""
    if match := _REMOVABLE_NEGATION.search(sentence):
        if match.group(0) == "cannot":
            return _replace(sentence, match.start(), match.end(), "can")
        return _replace(sentence, match.start(), match.end(), match.group(1))
    if negates(sentence.casefold()):
        return None
    if match := _AUXILIARY.search(sentence):
        return _replace(sentence, match.end(), match.end(), " not")
    for word in re.finditer(r"\b[a-z][a-z\-]+\b", sentence):
        base = effect_verb_base(word.group(0))
        form = word.group(0)
        if base and form != base and not form.endswith("ing"):
            helper = "does not" if form.endswith("s") else "did not"
            return _replace(sentence, word.start(), word.end(), f"{helper} {base}")
    return None


def direction(sentence: str, rng: random.Random) -> str | None:
    """An effect word replaced by its opposite (``increases`` -> ``decreases``, ``higher`` -> ``lower``)."""
    words = [m for m in re.finditer(r"\b[A-Za-z][a-z\-]+\b", sentence) if opposite_word(m.group(0).lower())]
    if not words:
        return None
    match = rng.choice(words)
    return _replace(sentence, match.start(), match.end(), _match_case(opposite_word(match.group(0).lower()), match.group(0)))


def class_mislabel(sentence: str, pool: list[str], rng: random.Random) -> str | None:
    """A class noun (``kinase``, ``receptor``, any ``-ase``) replaced by another class."""
    matches = class_nouns_in(sentence)
    if not matches:
        return None
    match = rng.choice(matches)
    plural = match.group(0).endswith("s") and not match.group(0).endswith("ss")
    current = match.group(0).rstrip("s").lower() if plural else match.group(0).lower()
    choices = [noun for noun in pool if noun.lower() != current and noun.lower() not in sentence.lower()]
    if not choices:
        return None
    new = rng.choice(choices)
    return _replace(sentence, match.start(), match.end(), new + ("s" if plural else ""))


def added_clause(sentence: str, other: str) -> str | None:
    """``sentence`` with the first clause of ``other`` joined on: half of the claim is unsupported."""
    clause = _CLAUSE.split(strip_citations(other).rstrip("."))[0]
    if len(clause.split()) < 4:
        return None
    clause = clause if entity_kind(clause.split()[0]) else clause[0].lower() + clause[1:]
    return f"{sentence.rstrip().rstrip('.')}, and {clause}."


# --- pairs from a corpus --------------------------------------------------------------------------


@dataclass
class Document:
    sentences: list[str]


def documents_from(texts: Iterable[str]) -> list[Document]:
    """Texts split into sentences (citations stripped); very short or long sentences are dropped."""
    documents = []
    for text in texts:
        # A line break ends a sentence too: headings and list items are not run into the next line.
        sentences = [strip_citations(line[start:end]) for line in text.splitlines() for start, end in split_sentences(line)]
        sentences = [s for s in sentences if 6 <= len(s.split()) <= 60 and re.search("[a-z]", s)]
        if sentences:
            documents.append(Document(sentences))
    return documents


def _pools(documents: list[Document]) -> tuple[dict[str, list[str]], list[str]]:
    entities: dict[str, set[str]] = defaultdict(set)
    classes = set(_CLASS_NOUNS)
    for document in documents:
        for sentence in document.sentences:
            for _, _, token, kind in named_entities(sentence):
                entities[kind].add(token)
            classes.update(m.group(0).rstrip("s") for m in class_nouns_in(sentence) if len(m.group(0)) > 6)
    return {kind: sorted(tokens) for kind, tokens in entities.items()}, sorted(classes)


def _window(document: Document, index: int, rng: random.Random) -> str:
    """The sentence alone or with a neighbour, as the evidence windows the judge reads are."""
    before = rng.randint(0, 1)
    after = rng.randint(0, 1 - before)
    return " ".join(document.sentences[max(0, index - before) : index + after + 1])


def generate_pairs(texts: Iterable[str], seed: int = 0, per_sentence: int = 3, limit: int | None = None) -> list[Pair]:
    """Synthetic pairs from ``texts``: for each sentence the sentence itself and the other positives
    that can be made of it, and up to ``per_sentence`` negatives of different kinds, in a fixed
    random order (``seed``); at most ``limit`` pairs."""
    rng = random.Random(seed)
    documents = documents_from(texts)
    entity_pool, class_pool = _pools(documents)
    everything = [(d, i) for d in documents for i in range(len(d.sentences))]
    rng.shuffle(everything)
    pairs: list[Pair] = []
    for document, index in everything:
        sentence = document.sentences[index]
        evidence = _window(document, index, rng)
        pairs.append(Pair(sentence, evidence, "identity"))
        positives = [("trimmed_clause", trimmed_clause(sentence)), ("reordered", reordered(sentence))]
        pairs.extend(Pair(claim, evidence, kind) for kind, claim in positives if claim)
        other_document, other_index = rng.choice(everything)
        other = other_document.sentences[other_index]
        makers = {
            "entity_swap": lambda: entity_swap(sentence, entity_pool, evidence, rng),
            "relation_swap": lambda: relation_swap(sentence, rng),
            "number_change": lambda: number_change(sentence, rng),
            "negation": lambda: negation(sentence, rng),
            "direction": lambda: direction(sentence, rng),
            "class_mislabel": lambda: class_mislabel(sentence, class_pool, rng),
            "added_clause": lambda: added_clause(sentence, other),
            "unrelated": lambda: _unrelated(evidence, everything, rng),
        }
        kinds = list(makers)
        rng.shuffle(kinds)
        negatives = 0
        for kind in kinds:
            if negatives == per_sentence:
                break
            claim = makers[kind]()
            if claim and claim.strip() != sentence.strip():
                pairs.append(Pair(claim, evidence, kind))
                negatives += 1
        if limit and len(pairs) >= limit:
            break
    return pairs[:limit] if limit else pairs


def _unrelated(evidence: str, everything: list[tuple[Document, int]], rng: random.Random) -> str | None:
    """The sentence among a few random ones that shares most words with ``evidence`` without
    being restated by it."""
    evidence_terms = set(tokenize(evidence))
    best, best_overlap = None, -1.0
    for document, index in rng.sample(everything, min(12, len(everything))):
        candidate = document.sentences[index]
        terms = set(tokenize(candidate))
        if not terms or candidate in evidence:
            continue
        overlap = len(terms & evidence_terms) / len(terms)
        if best_overlap < overlap < 0.6:
            best, best_overlap = candidate, overlap
    return best


def pubmedqa_abstracts(path: str | Path, part: Literal["train", "test"]) -> list[str]:
    """The abstracts of a PubMedQA-style JSON file (``{pmid: {"CONTEXTS": [...]}}``) in one fixed
    half: even PMIDs are for training, odd ones for testing, so a judge is never tested on an
    abstract it was trained on."""
    records = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(records, dict):
        raise ValueError("expected a JSON object of {pmid: {\"CONTEXTS\": [...]}}")
    wanted = 0 if part == "train" else 1
    return [" ".join(record["CONTEXTS"]) for pmid, record in sorted(records.items())
            if int(re.sub(r"\D", "", pmid) or 0) % 2 == wanted]
