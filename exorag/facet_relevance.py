"""What the relevance judgement adds to ``exorag.answerability`` for things a question names that
no passage mentions: the topic Y of a broad "how does X <verb> Y?", the subject of a yes/no
question ("Does giving zoledronic acid … reduce …?"), a side of a comparison; and the weight a
finding must cover."""

from __future__ import annotations

import re
import unicodedata

from exorag.shape import AUXILIARY_FIRST, asked_kind_terms, yes_no_clause
from exorag.store.lexical import LexicalIndex
from exorag.text import STOPWORDS, english_rarity, tokenize

# A word this rare in English that no indexed passage uses is a topic the literature lacks
# ("angiogenesis"), not a paraphrase of one it has.
ABSENT_TOPIC_RARITY = 0.6
SHARED_PREFIX = 5
# The first content words of a yes/no question's subject or of a compared side name it: a head and
# its modifier ("serum procalcitonin", "coblation tonsillectomy", "giving zoledronic acid").
SUBJECT_WORDS = 2
# A pronoun or "there" names no subject: "Should we select …?", "Is it true that …?", "Is there …?"
_NO_SUBJECT = frozenset({"there", "it", "its", "we", "you", "i", "they", "he", "she", "one", "this", "these", "that",
                         "those"})


# A word of a question, as the checks below read it: letters only ("nSMase" of "nSMase2").
_WORD = re.compile(r"[^\W\d_]+")
# In "how does X <verb> Y?", Y is what the answer must explain: its last word names the topic.
_HOW_OBJECT = re.compile(r"^\s*how\s+(?:do|does|did|can|could|might|may)\s+.+\s([^\W\d_]+)\W*$", re.IGNORECASE)
# Where the main clause ends: what follows elaborates it ("…, for example by delivering VEGF").
_CLAUSE_END = re.compile(r"[,;:(\u2013\u2014]|\s-\s|\b(?:for example|for instance|e\.g\.|i\.e\.|such as|including)\b",
                         re.IGNORECASE)


def absent_topic(lexical: LexicalIndex, question: str) -> str | None:
    """The topic word of a "how does X <verb> Y?" question (its main clause, without the example or
    aside after a comma) when it is rare and no indexed passage uses it, nor a word of the same stem
    (``vesicular`` for ``vesicles``)."""
    match = _HOW_OBJECT.match(_CLAUSE_END.split(question, maxsplit=1)[0])
    return match.group(1) if match and is_unused_rare_word(lexical, match.group(1)) else None


def absent_subject(lexical: LexicalIndex, question: str) -> str | None:
    """A rare word of a yes/no question's subject (the first words after its auxiliary) that no
    indexed passage uses: what the question asks about, which another study of the same disease does
    not answer."""
    clause = yes_no_clause(question)
    match = AUXILIARY_FIRST.match(clause) if clause else None
    if match is None:
        return None
    words = _WORD.findall(clause[match.end():])
    if not words or words[0].casefold() in _NO_SUBJECT:
        return None
    return _unused_leading_word(lexical, words)


def absent_side(lexical: LexicalIndex, side: str) -> str | None:
    """A rare word of a compared side's first words ("Hemiarthroplasty", "How does ticagrelor …")
    that no indexed passage uses: with one side unstudied there is nothing to compare. The kind a
    "which" side asks for ("Which integrin heterodimers …") is answered by its members, and need
    not be named."""
    kind = asked_kind_terms(side)
    return _unused_leading_word(lexical, [w for w in _WORD.findall(side) if not kind & set(tokenize(w))])


def _unused_leading_word(lexical: LexicalIndex, words: list[str]) -> str | None:
    leading = [word for word in words if word.casefold() not in STOPWORDS][:SUBJECT_WORDS]
    # An abbreviation ("rTMS", the "nSMase" of "nSMase2") may be one the corpus spells out:
    # ``exorag.scope`` judges those.
    return next((word for word in leading if not _abbreviation(word) and is_unused_rare_word(lexical, word)), None)


def _abbreviation(word: str) -> bool:
    return any(character.isupper() for character in word[1:])


def has_rare_word(text: str) -> bool:
    """Whether ``text`` holds a word rare enough in English to name a topic ("angiogenesis")."""
    return any(english_rarity(word) >= ABSENT_TOPIC_RARITY for word in _WORD.findall(text))


def unused_rare_word(lexical: LexicalIndex, text: str) -> str | None:
    """A word of ``text`` that is rare in English and that no indexed passage uses (see above)."""
    return next((word for word in _WORD.findall(text) if is_unused_rare_word(lexical, word)), None)


def is_unused_rare_word(lexical: LexicalIndex, word: str) -> bool:
    """Whether ``word`` is rare in English and no indexed passage uses it in any spelling: not its
    stem, nor a word of the same first letters, nor one without its accents ("Sjogren"), its British
    ae/oe ("hemarthrosis") or a slip of the pen ("zoledronic" for "zolendronic")."""
    tokens = tokenize(word)
    if len(tokens) != 1 or english_rarity(word) < ABSENT_TOPIC_RARITY:
        return False
    token = tokens[0]
    plain = unicodedata.normalize("NFKD", token).encode("ascii", "ignore").decode()
    spellings = {token, plain, *(re.sub(r"ae|oe", "e", form) for form in (token, plain))}
    return not any(lexical.knows(s) or lexical.has_prefix(s[:SHARED_PREFIX]) or lexical.spells_nearly(s)
                   for s in spellings if s)


def required_weight(weights: dict[str, float], question: str) -> float:
    """The weight an answer must cover: all but the kind a "which X" asks for (an answer names
    members of the kind, "miR-21", and need not repeat "microRNAs"); a kind found still counts."""
    kind = asked_kind_terms(question)
    required = sum(w for t, w in weights.items() if t not in kind)
    return required or sum(weights.values()) or 1.0
