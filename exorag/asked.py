"""What kind of thing a question asks for, and whether an answer states one.

A sentence can be about the question's topic and still not answer it: asked for the mouse strain
of an experiment, a passage about the experiment's finding names no strain. For the kinds of
detail whose answers carry recognisable words (a number, a time, an animal, a cell line, a drug, a
method, a drawback, a survival outcome, an organism, a trial, a comparison, an accession, a year,
one of the named options the question offers), an answer that states none of that kind is no
answer. Kinds whose members carry no such mark (which gene, which pathway) are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from exorag.text import exact_identifiers, names_all, numbers_in

_I = re.IGNORECASE


@dataclass(frozen=True)
class AskedKind:
    # What was missing, for the abstention's reason: "The question asks for {name}, ...".
    name: str
    asked: re.Pattern[str]
    stated: Callable[[str], bool]


def _words(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern, _I)
    return lambda text: bool(compiled.search(text))


_NUMBER_WORD = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|"
                          r"half|twice|double|triple|several|fold)\b", _I)
_NAMING = r"\b(which|what)\s+(?:[\w-]+\s+){0,3}?"

KINDS = (
    AskedKind(
        "a quantity",
        re.compile(r"\b(how (much|many|long|often|large|big|small|fast)|dose|doses|dosage|dosing|ratio|percentage|percent|"
                   r"concentration|sensitivity|specificity|diameter|size range|price|cost|half-life|ic50|p-value|auc|"
                   r"hazard ratios?|odds ratios?|(response|survival|recurrence|relapse|mortality|incidence|cure) rates?|"
                   r"cut-?offs?|thresholds?|fdr|fold[- ]changes?|"
                   r"what (amount|number|proportion|fraction|size))\b", _I),
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
        re.compile(r"\b(strains?|animal models?|mouse models?|murine models?|xenografts?|in vivo models?|"
                   r"which (mice|mouse|rats?|animals?))\b", _I),
        _words(r"\b(mice|mouse|murine|rats?|animals?|xenografts?|in vivo|strains?|zebrafish|organoids?)\b"),
    ),
    AskedKind(
        "a cell line",
        re.compile(r"\bcell[- ]lines?\b", _I),
        _words(r"\b(cell[- ]lines?|lines?)\b|\b[A-Z][A-Za-z]*-?\d+[A-Za-z]*\b"),
    ),
    AskedKind(
        "a drug or agent",
        re.compile(_NAMING + r"(drugs?|inhibitors?|compounds?|antibod(y|ies)|senolytics?|medications?|agents?)\b", _I),
        _words(r"\b(drugs?|inhibit\w*|compounds?|agents?|antibod(y|ies)|mabs?|blockers?|blockade|small[- ]molecules?|"
               r"\w+(mab|nib|lisib|ciclib|parib)|[A-Z]{2,}-?\d{3,})\b"),
    ),
    AskedKind(
        "a method",
        re.compile(_NAMING + r"(methods?|techniques?|assays?|kits?|protocols?|platforms?|pipelines?|software)\b|"
                   r"\bhow (was|were|is|are) [^?]*\b(isolated|purified|extracted|quantified|sequenced)\b|"
                   r"\b(ultracentrifugation|size[- ]exclusion|chromatography|precipitation)\b", _I),
        _words(r"\b(methods?|techniques?|assays?|kits?|protocols?|ultracentrifug\w*|chromatograph\w*|precipitat\w*|"
               r"isolat\w*|purif\w*|sequenc\w*|platforms?|pipelines?|software|pcr|blot\w*|cytometry|microscopy|elisa)\b"),
    ),
    AskedKind(
        "a drawback or risk",
        re.compile(r"\b(drawbacks?|disadvantages?|downsides?|limitations?|side[- ]effects?|toxicit(y|ies)|"
                   r"adverse (events?|effects?)|safety|caveats?|pitfalls?)\b", _I),
        _words(r"\b(drawbacks?|disadvantages?|downsides?|limitations?|limited|limits?|side[- ]effects?|toxic\w*|adverse|"
               r"safety|safe|risks?|caveats?|pitfalls?|challenges?|concerns?|hurdles?|barriers?|off[- ]target)\b"),
    ),
    AskedKind(
        "a survival or prognosis finding",
        re.compile(r"\b(survival|prognos\w*|recurrence|relapse|mortality)\b", _I),
        _words(r"\b(surviv\w*|prognos\w*|outcomes?|recurrence|relapse|mortality|hazard|respon\w*|resistan\w*|"
               r"worse|poorer|favou?rable)\b"),
    ),
    AskedKind(
        "an organism",
        re.compile(r"\b(species|genus|genera|bacterium|bacteria|bacterial|fungus|fungi|virus|viruses|pathogens?)\b", _I),
        _words(r"\b(species|genus|genera|bacteri\w*|fung\w*|vir(us|uses|al)|pathogens?|[A-Z]\. [a-z]{3,})\b"),
    ),
    AskedKind(
        "a clinical trial or approval",
        re.compile(r"\b(clinical trials?|phase (i{1,3}|iv|[1-4]) (clinical )?trials?|fda|ema|approv\w*|licensed)\b", _I),
        _words(r"\b(trials?|phase|approv\w*|fda|ema|licensed|clinic\w*|patients?)\b"),
    ),
    AskedKind(
        "a comparison",
        re.compile(r"\b((more|less) (efficient|effective|potent|important|common|frequent|likely|aggressive|active)|"
                   r"the (most|least)|highest|lowest|stronger|weaker|superior|inferior)\b", _I),
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
        _words(r"\b(1[89]\d\d|20\d\d)\b|\bet al\b"),
    ),
)


# Named options offered to choose from: "MyD88, IRAK4 or TRAF6", "MMP-2 or MMP-9".
_OPTIONS = re.compile(r"(?:[^\s,?]+,\s+)*[^\s,?]+,?\s+or\s+[^\s,?]+")


def unstated(question: str, answer_texts: list[str]) -> str | None:
    """What the question asks for that none of ``answer_texts`` states ("an animal model", "one of
    MyD88, IRAK4 or TRAF6"), or None."""
    for kind in KINDS:
        if kind.asked.search(question) and not any(kind.stated(text) for text in answer_texts):
            return kind.name
    for offered in _OPTIONS.findall(question):
        options = exact_identifiers(offered)
        if len(options) > 1 and not any(names_all(text, [option]) for text in answer_texts for option in options):
            return "one of " + ", ".join(options[:-1]) + " or " + options[-1]
    return None
