"""Questions no retrieval can answer: they ask about a named thing that no indexed passage mentions,
or about a link between named things that no passage mentions together."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from wordfreq import zipf_frequency

from exorag.store.lexical import LexicalIndex
from exorag.text import exact_identifiers, long_form, stem

# Names in parentheses that ask, give examples or offer alternatives are the asker's guesses ("Which
# MMPs (MMP-2, MMP-9?) do they carry?", "(MMP-2 or MMP-9)"): the question is about what stands
# outside them. One name alone in parentheses abbreviates or explains the words before it
# ("angiotensin-converting enzyme-1 (ACE-1)", "(CD63, a tetraspanin)"), and names joined by "and"
# or "/" are one subject ("(CD44 and CD133)", "(PD-1/PD-L1)"): they count.
_PARENTHESIS = re.compile(r"\([^()]*\)")
_EXAMPLE_OR_GUESS = re.compile(r"\?|\be\.g\.|(?<![\w-])(?:such as|like|for example|for instance)\b", re.IGNORECASE)
_ALTERNATIVES = re.compile(r",|\bor\b", re.IGNORECASE)


def _without_offered_names(question: str) -> str:
    def offered(match: re.Match[str]) -> bool:
        text = match.group()
        return bool(_EXAMPLE_OR_GUESS.search(text)) or bool(_ALTERNATIVES.search(text) and len(exact_identifiers(text)) > 1)

    return _PARENTHESIS.sub(lambda match: " " if offered(match) else match.group(), question)


@dataclass(frozen=True)
class Unmentioned:
    """Names of the question that no indexed passage mentions (``together``: none mentions them all)."""

    names: list[str]
    together: bool = False

    @property
    def reason(self) -> str:
        return f"No indexed passage mentions {_listed(self.names)}{' together' if self.together else ''}."


def unmentioned(question: str, lexical: LexicalIndex, mask: np.ndarray | None = None,
                linked: bool = True) -> Unmentioned | None:
    """Why the indexed passages (those in ``mask``) cannot answer ``question``, or None.

    With ``linked``, named things must also share a passage, unless the question offers them as
    alternatives ("miR-21 or miR-155"); a follow-up made standalone joins names from two
    questions, so the chain checks it unlinked.

    Only exact identifiers count (miR-1273f, CD206, GW4869): a plain word may be a paraphrase of
    what a passage says. An unknown identifier counts when the corpus names others of its family
    (``miR-9`` where it names ``miR-21``), when it is a gene or protein symbol (``PDCD4``: capitals
    that are no English word, and a number), which papers on it write as it is, or when it is a
    rare word and a number that no passage names in any form (``glypican-1``): one in mixed case
    with no relatives may be an abbreviation of words a passage spells out (``nSMase2`` for
    "neutral sphingomyelinase-2"). Names offered in parentheses as examples or guesses are not required.
    """
    identifiers = exact_identifiers(_without_offered_names(question))
    if not identifiers or not len(lexical):
        return None
    unknown = [name for name in identifiers if not lexical.mentions(name, mask)
               and (lexical.names_relatives(name) or _is_symbol(name)
                    or _unused_named_word(name, _word_before(question, name), lexical))]
    if unknown:
        return Unmentioned(unknown)
    known = [name for name in identifiers if lexical.naming_all([name], mask)]
    alternatives = re.search(r"\b(or|versus|vs)\b", question, re.IGNORECASE)
    if linked and not alternatives and len(known) > 1 and not lexical.naming_all(known, mask):
        return Unmentioned(known, together=True)
    return None


# A word and a number ("glypican-1", "Caspase-3") name a molecule; an abbreviation of words a
# passage spells out is written in capitals ("nSMase2").
_WORD_AND_NUMBER = re.compile(r"([A-Za-z][a-z]{4,})[-\u2010\u2011\u2013]?(\d+)[a-z]?")
# Rarer than this in English (wordfreq's Zipf scale), the word names a molecule, not a phase or a table.
MOLECULE_ZIPF = 3.0


# Capitals and a number, perhaps a letter after it: a gene or protein symbol ("PDCD4", "HOXD10", "TSG101").
_SYMBOL = re.compile(r"([A-Z]{2,})\d+[A-Z]?")


def _is_symbol(name: str) -> bool:
    """Whether ``name`` is a gene or protein symbol, not an English word in capitals with a
    number ("TYPE2", "PHASE3") nor a common abbreviation that passages may write otherwise ("HIV1", "CD8")."""
    match = _SYMBOL.fullmatch(name)
    return match is not None and zipf_frequency(match.group(1).casefold(), "en") < MOLECULE_ZIPF


def _word_before(question: str, name: str) -> str:
    """The word just before ``name`` in ``question`` ("matrix" of "matrix metalloproteinase-9"), or ""."""
    before = re.search(rf"([A-Za-z]+)\s+{re.escape(name)}", question)
    return before.group(1).casefold() if before else ""


def _unused_named_word(name: str, before: str, lexical: LexicalIndex) -> bool:
    """Whether ``name`` is a rare word and a number ("glypican-1") that no passage names in any form:
    no token starts with its word's stem, and none is a symbol with its number whose letters the word
    holds in order from its first ("GPC1", "CASP3", "Cx43", "COX-2" for "cyclooxygenase-2"), or the
    word with the one ``before`` it ("MMP-9" for "matrix metalloproteinase-9")."""
    match = _WORD_AND_NUMBER.fullmatch(name)
    if match is None:
        return False
    word, number = match.group(1).casefold(), match.group(2)
    if zipf_frequency(word, "en") >= MOLECULE_ZIPF or lexical.has_prefix(stem(word)[:5]):
        return False
    words = [before, word] if before else [word]
    symbols = (token.removesuffix(number).rstrip("-") for first in {w[0] for w in words}
               for token in lexical.tokens_starting(first) if token.endswith(number))
    # Schwartz and Hearst's rule, as for a defined abbreviation: the symbol's letters in order, the first opening a word.
    return not any(len(letters) >= 2 and letters.isalpha() and long_form(words, letters) for letters in symbols)


def _listed(names: list[str], most: int = 4) -> str:
    if len(names) > most:
        return ", ".join(names[:most]) + f" and {len(names) - most} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
