"""What the relevance judgement of a broad question's parts adds to ``exorag.answerability``: a
"how does X <verb> Y?" whose topic Y no passage mentions, and the weight a finding must cover."""

from __future__ import annotations

import re

from exorag.shape import asked_kind_terms
from exorag.text import english_rarity, tokenize

# A word this rare in English that no indexed passage uses is a topic the literature lacks
# ("angiogenesis"), not a paraphrase of one it has.
ABSENT_TOPIC_RARITY = 0.6
SHARED_PREFIX = 5


# In "how does X <verb> Y?", Y is what the answer must explain: its last word names the topic.
_HOW_OBJECT = re.compile(r"^\s*how\s+(?:do|does|did|can|could|might|may)\s+.+\s([^\W\d_]+)\W*$", re.IGNORECASE)
# Where the main clause ends: what follows elaborates it ("…, for example by delivering VEGF").
_CLAUSE_END = re.compile(r"[,;:(\u2013\u2014]|\s-\s|\b(?:for example|for instance|e\.g\.|i\.e\.|such as|including)\b",
                         re.IGNORECASE)


def absent_topic(pipeline, question: str) -> str | None:
    """The topic word of a "how does X <verb> Y?" question (its main clause, without the example or
    aside after a comma) when it is rare and no indexed passage uses it, nor a word of the same stem
    (``vesicular`` for ``vesicles``)."""
    match = _HOW_OBJECT.match(_CLAUSE_END.split(question, maxsplit=1)[0])
    return match.group(1) if match and is_unused_rare_word(pipeline, match.group(1)) else None


def unused_rare_word(pipeline, text: str) -> str | None:
    """A word of ``text`` that is rare in English and that no indexed passage uses (see above)."""
    return next((word for word in re.findall(r"[^\W\d_]+", text) if is_unused_rare_word(pipeline, word)), None)


def is_unused_rare_word(pipeline, word: str) -> bool:
    tokens = tokenize(word)
    lexical = pipeline.index.lexical
    if len(tokens) != 1 or lexical.knows(tokens[0]) or english_rarity(word) < ABSENT_TOPIC_RARITY:
        return False
    return not lexical.has_prefix(tokens[0][:SHARED_PREFIX])


def required_weight(weights: dict[str, float], question: str) -> float:
    """The weight an answer must cover: all but the kind a "which X" asks for (an answer names
    members of the kind, "miR-21", and need not repeat "microRNAs"); a kind found still counts."""
    kind = asked_kind_terms(question)
    required = sum(w for t, w in weights.items() if t not in kind)
    return required or sum(weights.values()) or 1.0
