"""Sentence splitting and tokenising shared by chunking, lexical search, generation and verification.

Tokens keep scientific names whole (``miR-1273f``, ``PD-L1``, ``HIF-1α``, ``1%``, ``3-10-fold``)
and also yield their parts, so that an exact id matches exactly and a spelling variant still
matches in part.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Container, Iterable, Iterator
from functools import lru_cache
from typing import Literal

import Stemmer
from wordfreq import zipf_frequency

from exorag.citations import find_citations

# Saved with a lexical index: an index built by another tokenizer version is rebuilt on load.
TOKENIZER_VERSION = 9

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "e.g", "i.e", "et al", "al", "fig", "figs", "vs", "cf", "approx", "ca", "no", "nos", "vol",
    "ref", "refs", "dr", "mr", "mrs", "ms", "prof", "st", "sp", "spp", "resp", "eq", "eqs",
    "etc", "inc", "ltd", "co", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec",
}
_SENTENCE_END = re.compile(r"[.!?](?:[\"'\u201d\u2019)]*)(?:\s*\[[^\[\]\n]{1,200}\])?(?=\s+|$)")
_TOKEN = re.compile(r"[\w\u00b5\u03b1-\u03c9\u0391-\u03a9]+(?:[-\u2010\u2011\u2013/.][\w\u03b1-\u03c9\u0391-\u03a9]+)*%?")
# A capital letter naming a kind of thing ("T cells", "B cell", "G protein") joins its noun, so that
# "T cells" and "T-cell" give the same tokens; "A" and "I" are words of their own.
_LETTER_DESIGNATION = re.compile(r"\b([B-HJ-Z]) (?=[A-Za-z][a-z]{2,})")
_NUMBER = re.compile(r"(?<![\w.\-\u2010\u2011\u2013/])\d+(?:[.,]\d+)?(?:\s?%)?(?![\w\u03b1-\u03c9])")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me more most my
    no nor not of off on once only or other our out over own same she should so some such than that the
    their them then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours via within without across among
    may might must shall upon whether both either neither one two per thus hence however therefore
    it's does doesn't don't isn't aren't tell explain describe please know""".split()  # noqa: SIM905
)

# British spellings a scientist may type, made American (applied to tokens, so to text and questions
# alike): the regular endings by rule, the rest by list.
_BRITISH_ENDINGS = [
    (re.compile(r"(?<=\w{3})is(ation|ations|e|es|ed|ing|er|ers)$"), r"iz\1"),
    (re.compile(r"(?<=\w{2})our(?=(s|al|ed|ing|able|i\w*)?$)"), "or"),
]
_SPELLING = {
    "haem": "heme", "haematopoietic": "hematopoietic", "oestrogen": "estrogen", "leukaemia": "leukemia",
    "anaemia": "anemia", "oesophageal": "esophageal", "centre": "center", "fibre": "fiber", "programme": "program",
    # Drugs whose British (or international) name is not the American one.
    "paracetamol": "acetaminophen", "adrenaline": "epinephrine", "noradrenaline": "norepinephrine",
    "adrenalin": "epinephrine", "noradrenalin": "norepinephrine",
    "salbutamol": "albuterol", "lignocaine": "lidocaine", "frusemide": "furosemide", "pethidine": "meperidine",
    "glibenclamide": "glyburide", "rifampicin": "rifampin", "ciclosporin": "cyclosporine", "cyclosporin": "cyclosporine",
    "aciclovir": "acyclovir", "amoxycillin": "amoxicillin", "phenobarbitone": "phenobarbital",
    "isoprenaline": "isoproterenol", "suxamethonium": "succinylcholine", "hyoscine": "scopolamine",
    "thiopentone": "thiopental", "bendrofluazide": "bendroflumethiazide", "cefalexin": "cephalexin",
    "mitozantrone": "mitoxantrone", "oxpentifylline": "pentoxifylline", "chlorphenamine": "chlorpheniramine",
    "torasemide": "torsemide", "colecalciferol": "cholecalciferol", "amfetamine": "amphetamine",
    "dexamfetamine": "dextroamphetamine", "beclometasone": "beclomethasone", "betametasone": "betamethasone",
}
# The ae/oe of British medical spelling, where American writes e: haem-, paed-, aetio-, anaes-, caes-,
# faec-, gynaec-, -aemia; oes-, oed-, foet-, coel-, amoeb-, -oea ("diarrhoea"). Only there: elsewhere
# an ae/oe is another word ("AECs", "canoes", "Loewy"). And sulph ("sulphate", "disulphide").
_BRITISH_LETTERS = re.compile(r"(?<=h)ae(?=m)|(?<=p)ae(?=d)|^ae(?=t)|ae(?=mi)|(?<=an)ae(?=s)|(?<=c)ae(?=s)|(?<=f)ae(?=c)"
                              r"|(?<=gyn)ae(?=c)|^oe(?=[sd])|(?<=f)oe(?=t)|(?<=c)oe(?=l)|oe(?=a$)|(?<=am)oe(?=b)|sulph")
_AMERICAN_LETTERS = {"ae": "e", "oe": "e", "sulph": "sulf"}


def _respell_letters(word: str) -> str:
    return _BRITISH_LETTERS.sub(lambda match: _AMERICAN_LETTERS[match.group(0)], word)


def _american(word: str) -> str:
    if word in _SPELLING:
        return _SPELLING[word]
    if word[:-1] in _SPELLING and word.endswith("s"):  # "amfetamines"
        return _SPELLING[word[:-1]] + "s"
    ended = next((american for ending, replacement in _BRITISH_ENDINGS
                  if (american := ending.sub(replacement, word)) != word), word)
    # Only a real variant: "colonisation" becomes "colonization", "Caesar" is not "Cesar". Both
    # changes together first ("anaesthetised", "sulphonated"), whose halves may be rarer than either.
    for american in (_respell_letters(ended), ended, _respell_letters(word)):
        if american != word and zipf_frequency(american, "en") >= zipf_frequency(word, "en"):
            return american
    return word


_GREEK = {"ẞ": "β", "ß": "β"}
GREEK_NAMES = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "kappa": "κ"}
# A Greek letter spelled out inside a name: "IL-1beta", "TGF-beta", "NF-kappaB", "beta-catenin".
_SPELLED_GREEK = re.compile(r"(?<=[\d-])(alpha|beta|gamma|delta|kappa)(?![a-z]{2})|\b(alpha|beta|gamma|delta|kappa)(?=-)")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def well_formed(text: str) -> str:
    """``text`` with lone surrogates (from a bad JSON escape or an undecodable command-line byte)
    replaced by U+FFFD: the tokenizer refuses them and UTF-8 cannot encode them."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def unify_greek(text: str) -> str:
    """NFKC with look-alike Greek letters unified (the review writes ẞ for β); case is kept."""
    text = unicodedata.normalize("NFKC", text)
    for look_alike, greek in _GREEK.items():
        text = text.replace(look_alike, greek)
    return text


def normalise(text: str) -> str:
    """NFKC, case-folded, with look-alike Greek letters unified (the review writes ẞ for β) and
    Greek letters spelled out in names written as letters ("IL-1beta" is "il-1β")."""
    return _SPELLED_GREEK.sub(lambda m: GREEK_NAMES[m.group(0)], unify_greek(text).casefold())


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def _expand(token: str) -> tuple[str, ...]:
    pieces = re.split(r"([-\u2010\u2011\u2013/.])", token.rstrip("%"))
    parts = [_american(p) for p in pieces[::2]]
    if len(parts) <= 1:
        token = _american(token)
        if token in STOPWORDS or (len(token) == 1 and not token.isdigit()):
            return ()
        return (stem(token),)
    # Compound ids keep the whole form (its last word stemmed, "T-cells" = "T-cell") and its joined
    # form, plus content parts.
    whole_parts = [*parts[:-1], stem(parts[-1])]
    whole = "".join(p + separator for p, separator in zip(whole_parts, [*pieces[1::2], ""]))
    expanded = [whole + ("%" if token.endswith("%") else ""), "".join(whole_parts)]
    expanded += [f"{a}-{b}" for a, b in itertools.pairwise(whole_parts)] if len(parts) > 2 else []
    expanded += [stem(p) for p in parts if p not in STOPWORDS and (len(p) > 1 or p.isdigit())]
    return tuple(dict.fromkeys(expanded))


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """The English stem of a word of letters (``suppressed`` -> ``suppress``); other tokens stay whole."""
    return _stemmer().stemWord(word) if word.isalpha() else word


def _words(text: str) -> Iterator[str]:
    for match in _TOKEN.finditer(normalise(_LETTER_DESIGNATION.sub(r"\1-", text))):
        yield match.group(0)


def tokenize(text: str) -> list[str]:
    """Search tokens of ``text``: normalised, stop words out, stemmed, compounds kept whole."""
    tokens: list[str] = []
    for word in _words(text):
        tokens.extend(_expand(word))
    return tokens


def tokens_with_words(text: str) -> dict[str, str]:
    """``{token: the word it came from}`` for the tokens of ``text`` (a stem keeps its first word)."""
    words: dict[str, str] = {}
    for word in _words(text):
        parts = [p for p in re.split(r"[-\u2010\u2011\u2013/.]", word.rstrip("%")) if p]
        for token in _expand(word):
            source = next((p for p in parts if token in _expand(p)), word) if len(parts) > 1 else word
            words.setdefault(token, source)
    return words


# Numbers written in words, as digits.
NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20", "thirty": "30",
    "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "million": "1e6",
    "half": "0.5", "twice": "2", "double": "2", "doubled": "2", "triple": "3", "tripled": "3",
    # Ordinals from "second" on ("first" is too often not a count).
    "second": "2", "third": "3", "fourth": "4", "fifth": "5", "sixth": "6",
}


def numbers_in(text: str) -> set[str]:
    """Numbers written in ``text`` outside citation brackets (``1%``, ``3``, ``0.5``)."""
    without_citations = strip_citations(text)
    return {n.replace(" ", "").replace(",", ".") for n in _NUMBER.findall(without_citations)}


def strip_citations(text: str) -> str:
    """``text`` with its citation brackets removed and spaces tidied."""
    pieces, last = [], 0
    for start, end, _ in find_citations(text):
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", "".join(pieces))).strip()


# The word before a full stop is read backwards from it, in the reversed text, and the character
# after a sentence's end forwards: reading from the sentence's start, or to the text's end, at every
# full stop made splitting quadratic in the number of full stops ("vs." 5,000 times took seconds).
_WORD_BACKWARDS = re.compile(r"\s*(\S+)")
_NEXT_VISIBLE = re.compile(r"\s*(\S)")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the sentences of ``text``; a trailing citation stays with its sentence."""
    spans: list[tuple[int, int]] = []
    start = 0
    backwards = text[::-1]
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        # The last word of text[start:match.start()], or "" when it holds none.
        found = _WORD_BACKWARDS.match(backwards, len(text) - match.start(), len(text) - start)
        last_word = found.group(1)[::-1].lower().lstrip("(") if found else ""
        if match.group(0).startswith(".") and (last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word)):
            continue
        following = _NEXT_VISIBLE.match(text, end)
        if following and not (following[1].isupper() or following[1].isdigit() or following[1] in "(\"'[\u201c"):
            continue
        if text[start:end].strip():
            spans.append(_trim(text, start, end))
        start = end
    if text[start:].strip():
        spans.append(_trim(text, start, len(text)))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@lru_cache(maxsize=50_000)
def english_rarity(word: str) -> float:
    """0 for the commonest English words, 1 for words English text almost never uses."""
    return min(1.0, max(0.0, (7.0 - zipf_frequency(word, "en")) / 7.0))


# A name whose parts are joined by hyphens or dots; "/" separates two names ("miR-21/PTEN").
_IDENTIFIER = re.compile(r"\w+(?:[-\u2010\u2011\u2013.]\w+)*")
_HYPHEN_PIECE = re.compile(r"[^-\u2010\u2011\u2013]+")
# A lower-case word joined to a name describes it ("anti-PD-L1", "PD-L1-positive"); a spelled Greek
# letter is part of it ("Hsp90-alpha").
_PLAIN_WORD = re.compile(r"(?!(?:alpha|beta|gamma|delta|kappa)$)[a-z]{3,}")
_LATIN = re.compile(r"[A-Za-z]")
_GREEK_LETTER = re.compile(r"[\u03b1-\u03c9\u0391-\u03a9]")
# A number with its unit ("3-fold", "24h", "3-tenfold", "50nm") is a quantity, not the name of a thing;
# so is a unit that looks like an id ("kDa", "mM").
_QUANTITY = re.compile(
    r"\d[\d.]*(?:[-\u2010\u2011\u2013](?:\d[\d.]*|" + "|".join(NUMBER_WORDS) + r"))*"
    r"[-\u2010\u2011\u2013]?(?:fold|x|h|hrs?|min|s|d|wk|[nuµμm]?m|k?da|[nuµμm]?g|[nuµμm]?l)")
_UNIT = re.compile(r"k?Da|[pnuµμm]M|[nuµμm][gLlm]")
_MIRNA = re.compile(r"(?i)(miR|let)-\d")

EntityKind = Literal["mirna", "coded", "acronym", "mixed"]


def entity_kind(name: str) -> EntityKind | None:
    """The shape of a named entity: ``mirna`` (miR-21, let-7a), ``coded`` with a digit or a Greek
    letter (HIF-1α, GW4869, p53), ``acronym`` with two capitals (PTEN, MMPs, GTPase), ``mixed`` with
    an inner capital (mAb); None for a plain word, a number or a quantity."""
    if not re.search(r"[^\W\d_]", name) or _QUANTITY.fullmatch(name.casefold()) or _UNIT.fullmatch(name):
        return None
    if _MIRNA.match(name):
        return "mirna"
    if re.search(r"\d", name) or _GREEK_LETTER.search(name):
        return "coded"
    if len(re.findall(r"[A-Z]", name)) >= 2:
        return "acronym"
    if re.search(r"[a-z][A-Z]", name):
        return "mixed"
    return None


def _name_span(word: str) -> tuple[int, int]:
    """Where the name lies in a hyphenated word: without the plain words joined to it
    (``anti-PD-L1``, ``miR-1273f-laden``, ``30-day``), unless they are part of it (``caspase-3``,
    ``β-catenin``, ``let-7a``, ``cyclo-oxygenase-2``)."""
    pieces = [match.span() for match in _HYPHEN_PIECE.finditer(word)]
    first, last = 0, len(pieces) - 1
    while first < last and _PLAIN_WORD.fullmatch(word[slice(*pieces[first])]):
        following, rest = word[slice(*pieces[first + 1])], word[pieces[first + 1][0] : pieces[last][1]]
        names_alone = _LATIN.match(following) and not _PLAIN_WORD.fullmatch(following) and entity_kind(rest)
        if not (names_alone or _QUANTITY.fullmatch(rest.casefold())):  # "mid-1990s" is a time
            break
        first += 1
    while first < last and _PLAIN_WORD.fullmatch(word[slice(*pieces[last])]):
        rest = word[pieces[first][0] : pieces[last - 1][1]]
        if not re.search(r"[A-Za-z\d]", rest):
            break
        last -= 1
    return pieces[first][0], pieces[last][1]


def named_entities(text: str) -> list[tuple[int, int, str, EntityKind]]:
    """``(start, end, name, kind)`` of every named entity of ``text`` (genes, proteins, miRNAs, cell
    lines, compounds: see ``entity_kind``), by the shape of its name."""
    found = []
    for match in _IDENTIFIER.finditer(text):
        start, end = _name_span(match.group(0))
        name = match.group(0)[start:end]
        if kind := entity_kind(name):
            found.append((match.start() + start, match.start() + end, name, kind))
    return found


def entity_key(name: str) -> str:
    """The form two names are compared in: normalised, hyphens, dots and a plural ``s`` after a
    capital ignored (``MMPs`` = ``mmp``, ``mAbs`` = ``mab``, ``PD-L1`` = ``pdl1``, ``TGF-beta`` = ``tgfβ``)."""
    return re.sub(r"[-\u2010\u2011\u2013.]", "", normalise(re.sub(r"(?<=[A-Z])s$", "", name)))


def exact_identifiers(question: str) -> list[str]:
    """Names in the question that mix letters and digits (miR-1273f, GW4869, HIF-1α), as written,
    for passages that hold every one of them to rank above what merely resembles them."""
    named = named_entities(unicodedata.normalize("NFKC", question))
    return list(dict.fromkeys(name for _, _, name, _ in named if re.search(r"\d", name)))


# The marks that join the parts of a compound name ("miR-1273f", "α6β4/α6β1").
JOINERS = re.compile(r"[-\u2010\u2011\u2013/.]")
# A Latin letter for a Greek one after a number ("HIF-1a", "IL-1b"), either way round.
_LATIN_GREEK = re.compile(r"(?<=\d)([abgkαβγκ])$")
_SWAPPED_LETTER = {"a": "α", "b": "β", "g": "γ", "k": "κ", "α": "a", "β": "b", "γ": "g", "κ": "k"}


def identifier_spellings(name: str) -> list[str]:
    """The tokens an identifier may be written as: whole (``egfr-viii``), joined (``egfrviii``),
    and with the letter after its number read as Greek or Latin (``hif-1a`` as ``hif-1α``)."""
    tokens = tokenize(name)
    if not tokens:
        return []
    whole = tokens[0]
    forms = [whole, _LATIN_GREEK.sub(lambda m: _SWAPPED_LETTER[m.group(1)], whole)]
    return list(dict.fromkeys(form for whole_form in forms for form in (whole_form, JOINERS.sub("", whole_form))))


def names_all(text: str, identifiers: list[str]) -> bool:
    """Whether ``text`` holds every identifier as a whole token, in any of its spellings
    (``miR-210`` does not hold ``miR-21``)."""
    tokens = set(tokenize(text))
    return bool(identifiers) and all(tokens.intersection(identifier_spellings(name)) for name in identifiers)


# Words that say what kind of answer is wanted, not what it is about.
QUESTION_WORDS = frozenset(tokenize("what which how why when where who whose role roles mechanism mechanisms "
                                    "effect effects way ways happen happens involved involve play plays "
                                    "function functions main kind kinds type types work works mean means "
                                    "particular specifically exactly actually thing things"))
# Words of asking and of the literature itself ("give me an overview of what these papers say about …"),
# compared as written: their stems would take in "collecting duct" or "public health".
ASKING_WORDS = frozenset(["give", "tell", "describe", "explain", "summarise", "summarize", "overview", "summary", "say",
                          "says", "know", "known", "literature", "abstracts", "paper", "papers", "article", "articles",
                          "collection", "documented", "mention", "mentions", "mentioned", "discuss", "discusses",
                          "discussed", "briefly", "gist", "nutshell", "recap"])
# How a request is put politely ("can you please …", "please …"): no part of what it asks.
POLITELY = r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|please\s+)"
# The verb of a request for a list ("list the drugs …", "can you name …") is no term of the question;
# elsewhere the word may be one ("the transplant waiting list").
_LIST_REQUEST = re.compile(r"(^|[.!?:;]\s+)\s*(?:" + POLITELY + r")?(?:list|enumerate|name)\b", re.IGNORECASE)


def names_topic(token: str, word: str) -> bool:
    """Whether a question's ``token`` (written ``word``) names what it asks about: not a question
    word ("which", "how") nor a word of asking or of the literature ("describe", "papers")."""
    return token not in QUESTION_WORDS and word.casefold() not in ASKING_WORDS


def topic_words(text: str) -> dict[str, str]:
    """``{token: word}`` of the words of ``text`` that name what it asks about: not its question
    words, words of asking, nor the verb of a request for a list ("list", "can you name")."""
    return {t: w for t, w in tokens_with_words(_LIST_REQUEST.sub(r"\1", text)).items() if names_topic(t, w)}


def question_terms(question: str) -> dict[str, str]:
    """``{token: word}`` of what a question is about; a compound's joined form ("mir1273f") is
    another spelling of its whole form, not a second term."""
    words = topic_words(question)
    joined = {JOINERS.sub("", t.rstrip("%")) for t in words if JOINERS.search(t.rstrip("%"))}
    return {t: w for t, w in words.items() if t not in joined}


def whole_word(pattern: str) -> str:
    """``pattern`` matched only as whole words: not inside a word or a hyphenated compound
    ("operative" is not found in "non-operative", "CPAP" not in "BCPAP")."""
    return rf"(?<![\w\u2010\u2011-])(?:{pattern})(?![\w\u2010\u2011-])"


# "long form (SF)": a short form of 2-10 characters in brackets after its words ("iron(II)" is no definition).
_DEFINED_SHORT_FORM = re.compile(r"(?<=\s)\(\s*([A-Za-z0-9][\w\u03b1-\u03c9-]{1,9})\s*(?:\)|[,;](?!\s*(?:\d{4}|et al)))")
_WORDS_BEFORE = re.compile(r"[^\s()]+")
# A capital and lower case only is a name ("(Li, 2019)"), not a short form.
_NAME = re.compile(r"[A-Z][a-z]+")


def long_form(words: list[str], short: str) -> list[str] | None:
    """The last of ``words`` that spell ``short`` (Schwartz and Hearst's rule): its letters and
    digits in order, from right to left, the first one opening a word."""
    letters = [c for c in short.lower() if c.isalnum()]
    text = " ".join(words).lower()
    at = len(text) - 1
    for index in range(len(letters) - 1, -1, -1):
        while at >= 0 and (text[at] != letters[index] or (index == 0 and at > 0 and text[at - 1].isalnum())):
            at -= 1
        if at < 0:
            return None
        at -= 1
    start = text.rfind(" ", 0, at + 2) + 1
    chosen = text[start:].split()
    return words[len(words) - len(chosen):] if len(chosen) > 1 or len(chosen[0]) > len(short) else None


def defined_abbreviations(text: str) -> dict[str, set[str]]:
    """``{short form as written: tokens of its long form}`` for each abbreviation ``text`` defines
    in brackets after the words it shortens: "high flow nasal cannulae (HFNC)" gives ``HFNC``."""
    defined: dict[str, set[str]] = {}
    for match in _DEFINED_SHORT_FORM.finditer(text):
        short = match.group(1)
        if not any(c.isupper() for c in short) or _NAME.fullmatch(short) or not tokenize(short):
            continue
        before = re.split(r"[.;:,!?()\[\]]", text[max(0, match.start() - 200):match.start()])[-1]
        words = _WORDS_BEFORE.findall(before)[-min(len(short) + 5, 2 * len(short)):]
        spelled = long_form(words, short) if words else None
        if spelled:
            defined[short] = set(tokenize(" ".join(spelled)))
    return defined


def held_terms(terms: Iterable[str], tokens: Container[str]) -> set[str]:
    """The ``terms`` that ``tokens`` hold; a compound counts as held when its joined spelling is."""
    return {t for t in terms if t in tokens or JOINERS.sub("", t.rstrip("%")) in tokens}


def weighted_coverage(weights: dict[str, float], tokens: Container[str]) -> float:
    """The weighted share of the terms in ``weights`` that ``tokens`` hold."""
    return sum(weights[t] for t in held_terms(weights, tokens)) / (sum(weights.values()) or 1.0)


# What makes corpus text a link or HTML in a Markdown viewer: "](", "][" and "]:" of the link forms,
# and "<" of raw HTML and autolinks ("[data](javascript:…)", "<a href=…>").
_MARKDOWN_ACTIVE = re.compile(r"\](?=[(\[:])|<")


def inert_markdown(text: str) -> str:
    """Corpus or user text that a Markdown viewer shows as written, never as a link or HTML."""
    return _MARKDOWN_ACTIVE.sub(lambda match: "\\" + match.group(0), text)
