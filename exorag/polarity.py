"""Negation and the direction of an effect in English biomedical prose.

One reading for the evidence verdict on yes/no questions, the rules judge and the synthetic pair
generator alike: what denies, what states no effect, which words raise or lower what follows them
(``suppresses``, ``higher``, "holds back") or call it good or bad (``favourable``, ``worse``), each
effect word's opposite, and prefixes of opposite sense ("anti-" and "pro-").
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from exorag.text import stem

Direction = Literal["up", "down", "good", "bad"]
OPPOSITE: dict[Direction, Direction] = {"up": "down", "down": "up", "good": "bad", "bad": "good"}

# Words that deny what follows them; "fail" too ("failed to raise").
NEGATIONS = frozenset(
    ["not", "no", "never", "neither", "nor", "cannot", "without", "lack", "lacks", "lacked", "lacking", "absent",
     "absence", "unable", "none", "fail", "fails", "failed"]
)
# Phrases read before negation is looked for: "rather than X" and "far from being X" deny X ("far from
# the vessels" denies nothing), "not only X" does not.
_NOT_ONLY = re.compile(r"\bnot (only|just|merely)\b")
_NEGATION_PHRASES = ((re.compile(r"\b(rather than|instead of|far from being)\b"), "not"), (_NOT_ONLY, ""))
# What reports that an effect was not found: no change, or statistics short of significance.
_NO_EFFECT = re.compile(r"\b(?:unaffected|unchanged|unrelated to|independent of|similar|comparable|non-?significant\w*|"
                        r"p\s*[>\u2265]\s*0?\.0*[5-9]|n\.?s\.?(?=[\s,;.)]))", re.IGNORECASE)
_WORD = re.compile(r"[\w']+")
_FAILED_OBJECT = re.compile(r"\bfail(?:s|ed|ing)?\b(?! to\b)")

# Effect verbs in opposite pairs, raising first (base forms; their inflections are derived).
_OPPOSITE_VERBS = [
    ("increase", "decrease"), ("raise", "lower"), ("enhance", "reduce"), ("promote", "inhibit"),
    ("upregulate", "downregulate"), ("up-regulate", "down-regulate"), ("activate", "inhibit"),
    ("stimulate", "suppress"), ("induce", "prevent"), ("accelerate", "slow"), ("strengthen", "weaken"),
    ("facilitate", "impede"), ("improve", "impair"), ("augment", "diminish"), ("boost", "attenuate"),
    ("elevate", "reduce"), ("expand", "shrink"), ("gain", "lose"),
]
# Other effect words in opposite pairs, raising (or good) first.
_OPPOSITE_WORDS = [
    ("higher", "lower"), ("more", "less"), ("greater", "smaller"), ("positive", "negative"),
    ("positively", "negatively"), ("increased", "decreased"), ("upregulated", "downregulated"),
    ("up-regulated", "down-regulated"), ("better", "worse"), ("larger", "smaller"), ("gain", "loss"),
    ("high", "low"), ("enhanced", "reduced"), ("elevated", "reduced"), ("longer", "shorter"),
    ("faster", "slower"),
]
# Verbs that state a direction: their stems are compared, so any inflection counts ("lowered").
_DIRECTION_VERBS: dict[Direction, str] = {
    "up": """increase raise elevate enhance promote boost upregulate stimulate activate induce augment
        heighten amplify accelerate strengthen potentiate facilitate restore reinforce trigger drive rise
        expand gain""",
    "down": """decrease lower reduce suppress inhibit downregulate block repress impair attenuate silence
        blunt dampen diminish prevent abolish weaken deplete degrade hinder impede disrupt fall drop
        decline slow shrink lose restrain curb""",
    "good": "improve",
    "bad": "",
}
# Adjectives, adverbs and irregular forms, compared as written: a stem would also take in
# "highly", "positivity" or "positioned".
_DIRECTION_FORMS: dict[Direction, str] = {
    "up": "more higher greater rose risen high larger longer positive positively faster quicker",
    "down": "less fewer fell fallen loss losses low smaller shorter negative negatively slower",
    "good": "favorable favourable better beneficial supportive",
    "bad": "hostile unfavorable unfavourable worse poor detrimental adverse",
}
# Nouns made from these verbs (activation, reduction) name an effect, they do not state one.
_NOMINAL = re.compile(r"(ion|ment)s?$")


def reword_negation_phrases(text: str) -> str:
    """``text`` (case-folded) with "rather than" read as "not" and "not only" as no negation."""
    for pattern, replacement in _NEGATION_PHRASES:
        text = pattern.sub(replacement, text)
    return text


# Phrasal verbs of effect, read as the one-word verb ("held tumour growth in check" as "inhibited"):
# "hold back" only before its object, not "held back a school year" or "held back from publication".
_HOLD = r"(?:hold|holds|held|holding|keep|keeps|kept|keeping)"
_CHECKED = r"(?:(?!and\b|or\b|but\b)[\w-]+\s+){0,4}?"
_EFFECT_PHRASES = (
    (re.compile(rf"\b{_HOLD}\s+back\s+(?!(?:a|an|the|from|for|to|on|at|in|by|of)\b)(?=\w)"), "inhibits "),
    (re.compile(rf"\b{_HOLD}\s+({_CHECKED})in\s+check(?![\w-])"), r"inhibits \1"),
    (re.compile(r"\b(?:ramps?|ramped|ramping)\s+up\b"), "increases"),
    # a pace: "grow more slowly" is "grow slower" ("more" alone would read as a rise)
    (re.compile(r"\b(?:more\s+slowly|less\s+(?:quickly|rapidly|fast))\b"), "slower"),
    (re.compile(r"\b(?:more\s+(?:quickly|rapidly)|less\s+slowly)\b"), "faster"),
)


def reword_effect_phrases(text: str) -> str:
    """``text`` (case-folded) with phrasal verbs of effect as one word: "hold back X", "keep X in
    check" as "inhibits"; "ramp up" as "increases"; a pace, "more slowly", as "slower"."""
    for pattern, replacement in _EFFECT_PHRASES:
        text = pattern.sub(replacement, text)
    return text


# Prefixes of opposite sense on one stem ("anti-inflammatory" and "pro-inflammatory").
_OPPOSED_PREFIXES = (("anti", "pro"), ("hyper", "hypo"))
_HYPHENS = re.compile("[\u2010\u2011\u2013]")


def opposed_prefix(first: str, second: str) -> str | None:
    """A word of ``first`` whose stem ``second`` writes with the opposite prefix (both case-folded),
    where neither text also writes the other's form: ``anti-inflammatory`` against
    ``pro-inflammatory``, ``hyperglycaemia`` against ``hypoglycaemia``; not "from a pro- to an
    anti-inflammatory phenotype", which names both."""
    first, second = _HYPHENS.sub("-", first), _HYPHENS.sub("-", second)
    for one, other in _OPPOSED_PREFIXES:
        for prefix, opposite in ((one, other), (other, one)):
            for match in re.finditer(rf"\b{prefix}-?([a-z]{{4,}})\b", first):
                ours = re.compile(rf"\b{prefix}-?{match.group(1)}\b")
                theirs = re.compile(rf"\b{opposite}-?{match.group(1)}\b")
                if theirs.search(second) and not ours.search(second) and not theirs.search(first):
                    return match.group(0)
    return None


def is_negation(word: str) -> bool:
    """Whether a case-folded word denies what follows it (``not``, ``without``, ``doesn't``)."""
    return word in NEGATIONS or word.endswith("n't")


def _holds_negation(text: str) -> bool:
    return any(is_negation(word) for word in _WORD.findall(text))


def negates(text: str) -> bool:
    """Whether ``text`` (case-folded) makes a negation; "rather than X" negates X."""
    return _holds_negation(reword_negation_phrases(text))


def denies_effect(text: str) -> bool:
    """Whether a whole sentence (case-folded) negates, or reports no effect (unchanged, not
    significant). Over a whole sentence "rather than X" denies only X, not what the sentence states,
    and "fail" denies only as "failed to" ("patients who failed treatment" deny nothing)."""
    return _holds_negation(_FAILED_OBJECT.sub("", _NOT_ONLY.sub("", text))) or reports_no_effect(text)


def reports_no_effect(text: str) -> bool:
    """Whether ``text`` (case-folded) reports no change or no significant difference."""
    return bool(_NO_EFFECT.search(text))


@lru_cache(maxsize=1)
def _verb_directions() -> dict[str, Direction]:
    return {stem(word): direction for direction, words in _DIRECTION_VERBS.items() for word in words.split()}


@lru_cache(maxsize=1)
def _form_directions() -> dict[str, Direction]:
    return {word: direction for direction, words in _DIRECTION_FORMS.items() for word in words.split()}


def direction_of(word: str) -> Direction | None:
    """``up``/``down``/``good``/``bad`` for a case-folded word stating an effect (``down-regulated`` too)."""
    word = word.replace("-", "")
    if _NOMINAL.search(word):
        return None
    return _form_directions().get(word) or _verb_directions().get(stem(word))


def _inflections(base: str) -> dict[str, str]:
    """Form -> inflection tag of an English verb: base, 3rd person, past, gerund."""
    root = base.removesuffix("e")
    third = base + ("es" if base.endswith(("s", "sh", "ch", "x")) else "s")
    past = "lost" if base == "lose" else base + "d" if base.endswith("e") else base + "ed"
    return {base: "base", third: "third", past: "past", root + "ing": "ing"}


@lru_cache(maxsize=1)
def _opposites() -> dict[str, str]:
    table: dict[str, str] = {}
    for first, second in _OPPOSITE_VERBS:
        by_tag_first = {tag: form for form, tag in _inflections(first).items()}
        by_tag_second = {tag: form for form, tag in _inflections(second).items()}
        for tag, form in by_tag_first.items():
            table.setdefault(form, by_tag_second[tag])
            table.setdefault(by_tag_second[tag], form)
    for first, second in _OPPOSITE_WORDS:
        table.setdefault(first, second)
        table.setdefault(second, first)
    return table


def opposite_word(word: str) -> str | None:
    """The opposite effect word in the same form (``increases`` -> ``decreases``, ``higher`` -> ``lower``)."""
    return _opposites().get(word)


@lru_cache(maxsize=1)
def _verb_bases() -> dict[str, str]:
    return {form: base for pair in _OPPOSITE_VERBS for base in pair for form in _inflections(base)}


def effect_verb_base(word: str) -> str | None:
    """The base form of an effect verb's form (``increased`` -> ``increase``), or None."""
    return _verb_bases().get(word)
