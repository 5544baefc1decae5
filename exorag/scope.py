"""Questions no retrieval can answer: they ask about a named thing that no indexed passage mentions,
or about a link between named things that no passage mentions together."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from exorag.store.lexical import LexicalIndex
from exorag.text import exact_identifiers

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
    what a passage says. An unknown identifier counts only when the corpus names others of its
    family (``miR-9`` where it names ``miR-21``): one with no relatives may be an abbreviation of
    words a passage spells out (``nSMase2`` for "neutral sphingomyelinase-2"). Names offered in
    parentheses as examples or guesses are not required.
    """
    identifiers = exact_identifiers(_without_offered_names(question))
    if not identifiers or not len(lexical):
        return None
    unknown = [name for name in identifiers if not lexical.mentions(name, mask) and lexical.names_relatives(name)]
    if unknown:
        return Unmentioned(unknown)
    known = [name for name in identifiers if lexical.naming_all([name], mask)]
    alternatives = re.search(r"\b(or|versus|vs)\b", question, re.IGNORECASE)
    if linked and not alternatives and len(known) > 1 and not lexical.naming_all(known, mask):
        return Unmentioned(known, together=True)
    return None


def _listed(names: list[str], most: int = 4) -> str:
    if len(names) > most:
        return ", ".join(names[:most]) + f" and {len(names) - most} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
