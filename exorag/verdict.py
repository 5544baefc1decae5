"""The verdict of the evidence on a yes/no question: ``yes``, ``no``, ``mixed`` or ``not_addressed``.

The question is read as the claim it asks about ("Does hypoxia raise exosome release?" asks about
"hypoxia raise exosome release"). A sentence addresses the claim when it holds enough of its terms,
and then says ``no`` when it negates what the claim states (or states what the claim negates, or
reports the effect as not significant), or reverses the claim's direction of effect on its object
(an effect word, a phrasal verb such as "keep X in check", or a prefix of opposite sense: "pro-"
against "anti-"); ``yes`` otherwise. A "without" aside ("… without genomic changes") denies only
what it names, or what the claim says the effect needs. A sentence that opens by pointing back
("This acts as a decoy …") is read with the one before it for which terms it holds. Each paper that addresses the claim votes
with its findings, not with its aim ("To determine whether X improves Y" words the claim and
answers nothing): those that word the claim first, else the others, of which one that reports no
effect ("No significant differences were found between the groups") says ``no`` and the rest
``yes``. The majority of papers wins, and an even split between papers is ``mixed``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from exorag.findings import is_tested_finding, reports_finding, reports_null_result, states_aim_or_method
from exorag.polarity import (
    denies_effect,
    direction_of,
    is_negation,
    opposed_prefix,
    reports_no_effect,
    reword_effect_phrases,
    reword_negation_phrases,
)
from exorag.shape import asked_positively
from exorag.text import normalise, tokenize

Verdict = Literal["yes", "no", "mixed", "not_addressed"]
# How views name a verdict.
VERDICT_LABELS = {"yes": "Yes", "no": "No", "mixed": "Mixed evidence", "not_addressed": "The evidence gives no clear yes or no"}

_I = re.IGNORECASE
_LEADING = re.compile(r"^\s*(?:(?:does|do|did|is|are|was|were|can|could|has|have|had|will|would|should|may|might|must)\s+)"
                      r"(?:there\s+(?:any\s+)?(?:evidence|data|proof)\s+(?:that|for|of)\s+|it\s+true\s+that\s+)?", _I)
_TAG = re.compile(r",\s*(?:right|correct|true|isn't (?:it|that)|aren't they|don't they|doesn't it)\s*\?\s*$", _I)
# A sentence addresses the claim when it holds this share of the claim's terms.
MIN_ADDRESS = 0.34
# How many words before the claim's object a sentence's direction word may stand ("impair the function
# of cytotoxic T cells and NK cells").
OBJECT_REACH = 8
# How many words after the claim's verb a sentence's word of pace or amount may stand ("grow more slowly").
VERB_REACH = 3
# Going back from the object, where its phrase ends: a clause break, or a preposition other than
# "of" ("increased DNA methylation at tumor suppressor promoters").
_PHRASE_ENDS = frozenset({",", ";", ":", "at", "in", "on", "for", "from", "by", "with", "to", "into", "via", "within",
                          "than", "but", "whereas", "although", "while", "which", "that"})
# A claim about what something needs: "without" in the evidence denies it ("silencing … without
# genomic changes" to "Does silencing require mutations?").
_REQUIREMENT = re.compile(r"\b(?:requires?|required|requiring|needs?|needed|necessary|essential|depends?|dependent|relies|rely)\b")
# Words, and the clause breaks between them.
_WORDS = re.compile(r"[\w-]+|[,;:]")
# A sentence opening with one of these continues the one before it.
_POINTS_BACK = re.compile(r"^\W*(?:this|these|that|those|it|they|its|their|such)\b", _I)


def question_claim(question: str) -> str:
    """The statement a yes/no question asks about, without its auxiliary and question mark."""
    return _TAG.sub("", _LEADING.sub("", asked_positively(question.strip()))).rstrip(" ?")


def _polarity(word: str) -> int:
    """+1 for a word that raises (or favours) what follows it, -1 for one that lowers it, else 0."""
    direction = direction_of(word)
    return 0 if direction is None else 1 if direction in ("up", "good") else -1


def _direction(words: list[str]) -> int:
    up = any(_polarity(w) > 0 for w in words)
    down = any(_polarity(w) < 0 for w in words)
    return (1 if up else 0) - (1 if down else 0)


def _effect_on_object(claim_words: list[str], sentence_words: list[str]) -> tuple[int, int]:
    """The claim's direction of effect and the sentence's on the same object: the first content
    word after the claim's direction word ("function" in "enhance the function of …"), looked up in
    the sentence with the nearest direction word before it in its phrase ("impair the function of
    cytotoxic T cells and NK cells"; "suppresses glycolytic enzymes (PKM2) and glucose transporters
    (GLUT1)"). The phrase ends, going back, at a clause break or at a preposition other than "of",
    which opens a phrase of its own ("increased DNA methylation at tumor suppressor promoters"
    says nothing of the promoters' silencing). (0, 0) if not found."""
    for position, word in enumerate(claim_words):
        claimed = _polarity(word)
        if not claimed:
            continue
        objects = [w for w in claim_words[position + 1:] if tokenize(w)][:1]
        if not objects:  # the pace or amount of the verb before it: "grow faster" against "grow slower"
            verb = next((w for w in reversed(claim_words[:position]) if tokenize(w)), None)
            return claimed, _effect_after(verb, sentence_words) if verb else 0
        for anchor in objects:
            for at, other in enumerate(sentence_words):
                if tokenize(other) == tokenize(anchor):
                    for earlier in reversed(sentence_words[max(0, at - OBJECT_REACH):at]):
                        if earlier in _PHRASE_ENDS:
                            break
                        if _polarity(earlier):
                            return claimed, _polarity(earlier)
        return claimed, 0
    return 0, 0


def _effect_after(verb: str, sentence_words: list[str]) -> int:
    """The direction of the first word of pace or amount within ``VERB_REACH`` words after ``verb``
    in the sentence ("grow slower"), or 0."""
    for at, word in enumerate(sentence_words):
        if tokenize(word) == tokenize(verb):
            for after in sentence_words[at + 1:at + 1 + VERB_REACH]:
                if _polarity(after):
                    return _polarity(after)
    return 0


def addressed_share(claim: str, sentence: str, before: str = "") -> float:
    """The share of the claim's terms that ``sentence`` holds, read with ``before`` when it points back to it."""
    claim_terms = set(tokenize(claim))
    held = set(tokenize(sentence))
    if before and _POINTS_BACK.match(sentence):
        held |= set(tokenize(before))
    return len(claim_terms & held) / len(claim_terms) if claim_terms else 0.0


def sentence_vote(claim: str, sentence: str, before: str = "", finding: bool = False) -> Literal["yes", "no"]:
    """``no`` when ``sentence`` (after ``before``) denies ``claim`` or reverses its direction of
    effect, else ``yes``; whether the sentence addresses the claim at all is ``addressed_share``'s.
    A ``finding`` whose negations each deny another effect ("reduced stay without increasing falls")
    denies a claim that makes none only by reporting no effect."""
    claim_text, sentence_text = reword_effect_phrases(normalise(claim)), reword_effect_phrases(normalise(sentence))
    claim_denies, sentence_denies = denies_effect(claim_text), denies_effect(sentence_text)
    asks_need = _REQUIREMENT.search(claim_text) is not None
    points_back = bool(before) and _POINTS_BACK.match(sentence) is not None
    # "… without any mutation in them?" asks about the effect, as "… without genomic changes" states
    # it: a "without" aside on both sides denies nothing.
    if claim_denies and sentence_denies and not asks_need and _only_aside(claim_text) and _only_aside(sentence_text):
        claim_denies = sentence_denies = False
    if sentence_denies and points_back:
        # A sentence that follows up on a finding may deny a side point of it ("This release was not
        # due to cell death"): it denies the claim only when what follows its negation names part of it.
        sentence_denies = _denies_part_of(claim, sentence_text)
    elif sentence_denies and finding and not claim_denies and _denies_other_effects(claim, sentence_text):
        sentence_denies = reports_null_result(sentence)
    elif sentence_denies and not asks_need and _only_aside(sentence_text, claim_text):
        sentence_denies = False  # "lowered blood glucose without weight gain" to "Does it lower blood glucose?"
    if asks_sameness(claim_text) and not claim_denies and reports_null_result(sentence):
        return "yes"  # no difference is what "Is X as safe as Y?" asks about
    negated = claim_denies != sentence_denies
    claim_words, sentence_words = _WORDS.findall(claim_text), _WORDS.findall(sentence_text)
    # A sentence pointing back goes on about the object of the one before ("which suppresses …
    # GLUT1. This causes these cells to consume less glucose"): the effect on it is read there.
    continued = [*_WORDS.findall(reword_effect_phrases(normalise(before))), ";"] if points_back else []
    claim_direction, sentence_direction = _effect_on_object(claim_words, continued + sentence_words)
    if not sentence_direction:
        claim_direction, sentence_direction = _direction(claim_words), _direction(sentence_words)
    reversed_effect = claim_direction * sentence_direction < 0 or opposed_prefix(claim_text, sentence_text) is not None
    return "no" if negated != reversed_effect else "yes"


# A claim that asks whether two things are the same, or a treatment safe: a null difference says yes.
_SAMENESS = re.compile(r"\b(?:safe|safely|as \w+ as|non-?inferior|equivalent|comparable|similar|equally|the same)\b")


def asks_sameness(claim_text: str) -> bool:
    """Whether a claim (case-folded) asks about sameness or safety ("Is X as effective as Y?")."""
    return bool(_SAMENESS.search(claim_text))


# Where a negation's reach ends: a clause break or a conjunction that opens another clause.
_CLAUSE = re.compile(r"[,;:()]|\b(?:but|although|though|whereas|while|and)\b")


def _denies_other_effects(claim: str, sentence_text: str) -> bool:
    """Whether each negation of ``sentence_text`` denies an effect the claim does not name: a word of
    effect follows it in its clause and no claim term does ("without increasing falls", "no patient
    fell"), unlike "without genomic changes", which may deny what the claim asks."""
    claim_terms = set(tokenize(claim))
    negated = _after_negations(_CLAUSE.split(reword_negation_phrases(sentence_text)))
    return bool(negated) and all(any(direction_of(word) for word in rest) and not claim_terms & set(tokenize(" ".join(rest)))
                                 for rest in negated)


def _only_aside(text: str, other: str = "") -> bool:
    """Whether each negation of ``text`` (a claim or a sentence, case-folded) is a "without" aside
    naming nothing of ``other`` ("downregulate TET … and silencing of these genes without genomic
    changes"): it tells how the effect comes about, not that it does not."""
    if reports_no_effect(text):
        return False
    # "in 1 of 15 patients with IONM and in 6 of 15 without IONM": "without" names a group compared.
    grouped = {match.group(1) for match in re.finditer(r"\bwith\s+([\w-]+)", text)}
    if any(match.group(1) in grouped for match in re.finditer(r"\bwithout\s+([\w-]+)", text)):
        return False
    other_terms = set(tokenize(other))
    for clause in _CLAUSE.split(reword_negation_phrases(text)):
        words = re.findall(r"[\w'-]+", clause)
        for at, word in enumerate(words):
            if is_negation(word) and (word != "without" or other_terms & set(tokenize(" ".join(words[at + 1:])))):
                return False
    return True


def _denies_part_of(claim: str, sentence_text: str) -> bool:
    """Whether a claim term follows a negation in ``sentence_text``, or the sentence reports no effect."""
    claim_terms = set(tokenize(claim))
    return (reports_no_effect(sentence_text)
            or any(claim_terms & set(tokenize(" ".join(rest))) for rest in _after_negations([reword_negation_phrases(sentence_text)])))


def _after_negations(texts: list[str]) -> list[list[str]]:
    """The words after each negation of each of ``texts``, to that text's end."""
    return [words[at + 1:] for text in texts for words in [re.findall(r"[\w'-]+", text)]
            for at, word in enumerate(words) if is_negation(word)]


def evidence_verdict(question: str, sentences: list[str], sources: list[str] | None = None) -> Verdict:
    """The verdict of ``sentences`` (an answer's, best first) on the yes/no ``question``.

    ``sources`` names the paper each sentence comes from (each its own, when not given). Papers
    none of whose sentences addresses the claim do not vote; the majority of the others wins, and
    papers that disagree evenly are ``mixed`` evidence."""
    return verdict_of(list(paper_votes(question, sentences, sources).values()))


def verdict_of(votes: list[Verdict]) -> Verdict:
    """The verdict of papers' ``votes``: their majority, ``mixed`` on an even split, ``not_addressed`` without any."""
    return _majority(votes, tie="mixed") if votes else "not_addressed"


def paper_votes(question: str, sentences: list[str], sources: list[str] | None = None) -> dict[str, Verdict]:
    """What each paper of ``sources`` (as ``evidence_verdict`` reads them) says to ``question``,
    in the order they first come; papers that do not address it are left out."""
    claim = question_claim(question)
    papers = sources or [str(index) for index in range(len(sentences))]
    by_paper: dict[str, list[_Read]] = {}
    for index, sentence in enumerate(sentences):
        before = sentences[index - 1] if index and papers[index - 1] == papers[index] else ""
        by_paper.setdefault(papers[index], []).append(_Read(sentence, before, addressed_share(claim, sentence, before)))
    return {paper: vote for paper, read in by_paper.items() if (vote := _paper_vote(claim, read))}


@dataclass(frozen=True)
class _Read:
    sentence: str
    before: str
    share: float


def _paper_vote(claim: str, read: list[_Read]) -> Verdict | None:
    """What a paper that addresses the claim says of it, or None when it does not address it.

    Its findings vote, those tested against something (a statistic, a null result) if it has any:
    what a study set out to do says neither yes nor no, though it is often the sentence wording the
    claim most closely. Findings that word the claim vote by what they say of it; where none does,
    the others vote, ``no`` for one that reports no effect (``yes`` to a claim of sameness) and
    ``yes`` for one that reports an effect. Without findings, the paper's sentences that hold most
    of the claim vote (its conclusion outweighs its sentences that only touch the topic), its aims
    and methods excepted. The majority wins; an even split goes to the first."""
    if max(r.share for r in read) < MIN_ADDRESS:
        return None
    findings = [r for r in read if reports_finding(r.sentence)]
    voters = [r for r in findings if is_tested_finding(r.sentence)] or findings
    wording = [sentence_vote(claim, r.sentence, r.before, finding=True) for r in voters if r.share >= MIN_ADDRESS]
    null = "yes" if asks_sameness(normalise(claim)) else "no"
    votes = wording or [null if reports_null_result(r.sentence) else "yes" for r in voters]
    if votes:
        return _majority(votes)
    stated = [r for r in read if r.share >= MIN_ADDRESS and not states_aim_or_method(r.sentence)]
    most = max(r.share for r in stated) if stated else 0.0
    return _majority([sentence_vote(claim, r.sentence, r.before) for r in stated if r.share == most]) if stated else None


def _majority(votes: list[Verdict], tie: Verdict | None = None) -> Verdict:
    yes, no = votes.count("yes"), votes.count("no")
    return "yes" if yes > no else "no" if no > yes else tie or votes[0]
