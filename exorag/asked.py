"""What kind of thing a question asks for, and whether an answer states one.

A sentence can be about the question's topic and still not answer it: asked for the mouse strain
of an experiment, a passage about the experiment's finding names no strain. For the kinds of
detail whose answers carry recognisable words (a number, a time, an animal model, a cell line, a
drug, a method, a drawback, a patient outcome, an organism, a trial, a comparison, an accession,
who or when, one of the named options the question offers), an answer that states none is no
answer. The triggers are phrased as requests ("what dose", "which mouse strain", "overall
survival"), so that a question merely about a dose or a survival signal is not held to them.
Kinds whose members carry no such mark (which gene, which pathway) are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from exorag.text import JOINERS, exact_identifiers, identifier_spellings, named_entities, numbers_in, tokenize

_I = re.IGNORECASE


@dataclass(frozen=True)
class AskedKind:
    # What was missing, for the abstention's reason: "The question asks for {name}, ...".
    name: str
    asked: re.Pattern[str]
    stated: Callable[[str], bool]
    # A name the question itself used ("Which mouse strain?" answered by "Mouse exosomes...")
    # does not count: the answer must bring its own.
    new_words_only: bool = False


def _words(pattern: str, flags: int = _I) -> Callable[[str], bool]:
    compiled = re.compile(pattern, flags)
    return lambda text: bool(compiled.search(text))


_LINES = re.compile(r"\b([Cc]ell[- ]lines?|[Ll]ines?)\b")


def _names_cell_line(text: str) -> bool:
    """Whether ``text`` names what may be a cell line: an id with a digit that does not start in lower
    case (MDA-MB-231, U87, HEK293, 786-O; not miR-21 or p53)."""
    return any(kind == "coded" and not name[0].islower() and re.search(r"\d", name)
               for _, _, name, kind in named_entities(text))


_NUMBER_WORD = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|"
                          r"half|quarters?|thirds?|twice|double|triple|several|fold)\b", _I)
# "which ... <noun>", "what ... <noun>" with up to three words between.
_NAMING = r"\b(which|what)\s+(?:[\w-]+\s+){0,3}?"

KINDS = (
    AskedKind(
        "a quantity",
        re.compile(r"\bhow (much|many|often|large|big|small|fast|high|low)\b|"
                   r"\b(what|which|at what)\s+(?:[\w-]+\s+){0,4}?(dose|doses|dosage|ratio|percentage|percent|price|cost|"
                   r"concentration|sensitivity|specificity|diameter|size|cut-?offs?|thresholds?|fdr|fold[- ]changes?|"
                   r"amount|number|proportion|fraction|share|ic50|p-value|auc|hazard ratio|odds ratio|"
                   r"(response|survival|recurrence|relapse|mortality|incidence|cure) rates?|"
                   r"(\d+|one|two|three|five|ten)[- ]year (survival|mortality|recurrence))\b", _I),
        lambda text: bool(numbers_in(text) or _NUMBER_WORD.search(text)),
    ),
    AskedKind(
        "a time",
        re.compile(r"\b(how (long|soon|quickly)|how many (seconds|minutes|hours|days|weeks|months|years)|"
                   r"at what (time|point)|time ?points?|half-life)\b", _I),
        _words(r"\b(seconds?|minutes?|hours?|days?|weeks?|months?|years?|overnight|\d+\s?(s|min|h|hrs?|d|wk))\b"),
    ),
    AskedKind(
        "an animal model",
        re.compile(r"\b(mouse|mice|murine|rat|animal) (strains?|models?)\b|\bstrains? of (mice|mouse|rats?)\b|"
                   r"\bxenografts?\b|\bin vivo models?\b|\bwhich (mice|mouse|rats?|animals?)\b", _I),
        _words(r"\b(mice|mouse|murine|rats?|animals?|xenografts?|in vivo|strains?|zebrafish|organoids?|"
               r"C57BL\w*|BALB\w*|NOD|SCID|nude)\b"),
        new_words_only=True,
    ),
    AskedKind(
        "a cell line",
        re.compile(r"\bcell[- ]lines?\b", _I),
        lambda text: _LINES.search(text) is not None or _names_cell_line(text),
        new_words_only=True,
    ),
    AskedKind(
        "a drug or agent",
        # "drug-eluting stents" names no drug: a noun joined by a hyphen modifies what follows
        re.compile(_NAMING + r"(drugs?|inhibitors?|compounds?|antibod(y|ies)|conjugates?|senolytics?|medications?|agents?)\b(?!-)", _I),
        _words(r"\b(drugs?|inhibit\w*|compounds?|agents?|antibod(y|ies)|mabs?|blockers?|blockade|small[- ]molecules?|"
               r"\w+(mab|nib|lisib|ciclib|parib|azole|statin|mycin|platin|taxel|parin|sore)|[A-Z]{2,}-?\d{3,})\b"),
        new_words_only=True,
    ),
    AskedKind(
        "a method",
        re.compile(_NAMING + r"(methods?|techniques?|assays?|kits?|protocols?|platforms?|pipelines?|software)\b|"
                   r"\bhow (was|were|is|are) [^?]*\b(isolated|purified|extracted|quantified|sequenced)\b", _I),
        _words(r"\b(methods?|techniques?|assays?|kits?|protocols?|\w*centrifug\w*|chromatograph\w*|precipitat\w*|"
               r"isolat\w*|purif\w*|sequenc\w*|platforms?|pipelines?|software|pcr|blot\w*|cytometry|microscopy|elisa|"
               r"immuno\w*|nanoparticle tracking|exoquick)\b"),
        new_words_only=True,
    ),
    AskedKind(
        "a drawback or risk",
        re.compile(r"\b(drawbacks?|disadvantages?|downsides?|limitations?|side[- ]effects?|toxicit(y|ies)|"
                   r"adverse (events?|effects?)|caveats?|pitfalls?)\b", _I),
        _words(r"\b(drawbacks?|disadvantages?|downsides?|limitations?|limited|limits?|side[- ]effects?|toxic\w*|adverse|"
               r"safety|safe|risks?|caveats?|pitfalls?|challenges?|concerns?|hurdles?|barriers?|off[- ]target|impair\w*)\b"),
    ),
    AskedKind(
        "a patient outcome",
        re.compile(r"\b(overall|progression-free|disease-free|relapse-free|patients?'?|long-term) survival\b|"
                   r"\bsurvival (rates?|times?|benefit|outcomes?)\b|\b(prognos\w*|recurrence|relapse|mortality)\b", _I),
        _words(r"\b(surviv\w*|prognos\w*|outcomes?|recurrence|relapse|mortality|hazard|respon\w*|resistan\w*|"
               r"worse|poorer|favou?rable)\b"),
    ),
    AskedKind(
        "an organism",
        re.compile(r"\b(species|genus|genera|bacterium|bacteria|bacterial|fungus|fungi|virus|viruses|pathogens?)\b", _I),
        _words(r"\b(species|genus|genera|bacteri\w*|fung\w*|\w*vir(us|uses|al)|pathogens?|[A-Z]\. [a-z]{3,}|"
               r"\w*(bacter|bacill|cocc|monas)\w*|EBV|HPV|HBV|HCV|HIV|CMV)\b"),
        new_words_only=True,
    ),
    AskedKind(
        "a clinical trial or approval",
        re.compile(r"\b(clinical (trials?|testing|development)|phase (i{1,3}|iv|[1-4]) (clinical )?trials?|fda|ema|"
                   r"approv\w*|licensed)\b", _I),
        _words(r"\b(trials?|phase|approv\w*|fda|ema|licensed|clinic\w*|patients?)\b"),
    ),
    AskedKind(
        "a comparison",
        # "make cells more aggressive" asks how a change comes about, not which of two is more so
        re.compile(r"^(?!.*\b(?:make|makes|made|making|render\w*|becomes?|became|becoming)\b(?:\s+[\w-]+){0,4}\s+(?:more|less)\b)"
                   r".*\b(more|less) (efficient|effective|potent|important|common|frequent|likely|aggressive|active)\b|"
                   r"\b(the (most|least)|highest|lowest|stronger|weaker|superior|inferior)\b", _I),
        _words(r"\b(more|less|than|stronger|weaker|greater|higher|lower|better|worse|superior|inferior|compared|"
               r"whereas|unlike|most|least)\b"),
    ),
    AskedKind(
        "a data set or accession",
        re.compile(r"\b(accessions?|geo|sra|arrayexpress|deposited|data ?sets?|repositor(y|ies))\b", _I),
        _words(r"\b(accessions?|geo|sra|arrayexpress|deposited|data ?sets?|repositor(y|ies)|gse\d+|prjna\d+|srp\d+)\b"),
    ),
    AskedKind(
        "who or when",
        re.compile(r"\b(who (first )?(discovered|described|showed|reported|identified|found|demonstrated|coined)|"
                   r"(what|which) year|when was \w+ first)\b", _I),
        _words(r"\b(1[89]\d\d|20\d\d)\b|\bet al\b|\bcolleagues\b"),
    ),
)


# A question asking whether: it opens (or a clause of it opens) with an auxiliary verb, or it ends
# in a tag asking for confirmation ("..., right?").
_YES_NO = re.compile(r"(?:^|[.;:?!]\s+|,\s*(?:and|or|but)\s+)(is|are|was|were|do|does|did|can|could|should|would|will|"
                     r"has|have|had|may|might|must|shall)\b|,\s*(right|correct|true|no|yes)\s*\?\s*$", _I)


def is_yes_no(question: str) -> bool:
    """Whether ``question`` asks whether something holds rather than for something."""
    return bool(_YES_NO.search(question.strip())) and not re.match(r"\s*(what|which|how|why|when|where|who)\b", question, _I)


# "Topic words: the question?": a title before the colon names the topic; only what follows asks.
_TITLED = re.compile(r"^(?![^:]*\b(?:what|which|how|why|when|where|who|is|are|was|were|do|does|did|can|could|has|have|"
                     r"should|will|would)\b)[^?:]+:\s+(?P<asked>[^:]+\?)\s*$", _I)


_CONTRACTED_WH = re.compile(r"\b(what|which|who|how)['\u2019]s\b", _I)
# A question counting things: "How many …", "What share (proportion, percentage) of …".
_COUNTING = re.compile(r"\s*(?:how many\b|(?:what|which)\s+(?:\w+\s+)?(?:share|proportion|percentage|fraction|number|"
                       r"amount|percent)\s+of\b)", _I)


def unstated(question: str, answer_texts: list[str], whether: bool = False) -> str | None:
    """What the question asks for that none of ``answer_texts`` states ("an animal model", "one of
    MyD88, IRAK4 or TRAF6"), or None.

    With ``whether`` (a yes/no question), the question names the detail itself ("Is hepatitis G
    virus involved?"): a text that speaks of it states it. Of a titled question ("Pitfalls in stone
    imaging: do scanners agree?") only the part after the colon asks.
    """
    question_words = re.compile(r"\b(" + "|".join(map(re.escape, set(re.findall(r"\w+", question)))) + r")\b", _I)
    titled = _TITLED.match(question.strip())
    # "What's the AUC …?" asks as "What is the AUC …?" does.
    asked = _CONTRACTED_WH.sub(r"\1 is", titled.group("asked") if titled else question)
    # "What share of marine species …?" asks for a number: the things it counts are named already.
    counting = _COUNTING.match(asked) is not None
    for kind in KINDS:
        if not kind.asked.search(asked) or (counting and kind.new_words_only):
            continue
        texts = [question_words.sub(" ", text) for text in answer_texts] if kind.new_words_only and not whether else answer_texts
        if not any(kind.stated(text) for text in texts):
            return kind.name
    for options in offered_options(question):
        if not any(_names_option(text, option) for text in answer_texts for option in options):
            return "one of " + ", ".join(options[:-1]) + " or " + options[-1]
    return None


def offered_options(question: str) -> list[list[str]]:
    """The named options a question offers to choose from: ``[["MyD88", "IRAK4", "TRAF6"]]`` for
    "... - MyD88, IRAK4 or TRAF6?" (only lists of two or more identifiers)."""
    words = question.replace("?", " ").split()
    groups = []
    for position, word in enumerate(words):
        if word.casefold() != "or" or not 0 < position < len(words) - 1:
            continue
        start = position - 1
        while start > 0 and words[start - 1].endswith(","):
            start -= 1
        options = exact_identifiers(" ".join([*words[start:position], words[position + 1]]))
        if len(options) > 1:
            groups.append(options)
    return groups


def _names_option(text: str, option: str) -> bool:
    """Whether ``text`` names ``option`` or the family it belongs to (``Rab27`` for ``Rab27a``,
    but ``miR-21`` not for ``miR-210``)."""
    spellings = {JOINERS.sub("", spelling) for spelling in identifier_spellings(option)}
    names = {JOINERS.sub("", token) for token in tokenize(text) if any(c.isdigit() for c in token)}
    return any(
        spelling == name or (spelling.startswith(name) and not spelling[len(name)].isdigit())
        for spelling in spellings for name in names if len(name) >= 3
    )
