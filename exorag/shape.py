"""What shape of answer a question asks for, and the parts (facets) a complete answer covers.

Read from the question's syntax only: an auxiliary verb first makes a yes/no question, a contrast
marker ("versus", "differ from", "compare") a comparison, coordinated questions ("…, and what are
its limitations?") several parts, a plural "which/what" or "list" a list, and "how do…",
"summarise", "overview" and the idioms of asking for a whole topic ("the gist of", "in a
nutshell") a summary, also after a title or a sentence that sets the scene. No topic word of any
corpus is part of these rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from exorag.polarity import is_negation
from exorag.text import POLITELY, tokenize, whole_word

Shape = Literal["fact", "yes_no", "list", "summary", "comparison", "multi_part"]
BROAD_SHAPES: frozenset[str] = frozenset({"list", "summary", "comparison", "multi_part"})

_I = re.IGNORECASE
AUXILIARY_FIRST = re.compile(
    r"^\s*(does|do|did|is|are|was|were|can|could|has|have|had|will|would|should|may|might|must)\b(?!\s+you\b)", _I)
# "Is X a minor passenger or one of the dominant ones?" offers a choice: not a yes/no question.
_CHOICE = re.compile(r"\bor\b(?!\s+not\b)", _I)
# Idioms whose "or" offers no choice: "with or without", "and/or", "aged 80 or older", "one or more".
_NO_CHOICE = re.compile(
    r"\b(?:with or without|and/or|whether or not|more or less)\b|"
    r"(?<![\w.])(?:\d+(?:\.\d+)?\s?%?|one|two|three|four|five|six|seven|eight|nine|ten)\s+or\s+"
    r"(?:more|less|fewer|greater|older|younger|higher|lower|above|below|over|under|longer|shorter)\b", _I)
_WH = r"(?:what|which|how|why|where|when|who|whom|whose)"
# "X versus Y", "X vs. Y", "X compared with Y", "how does X differ from Y", "the difference between X and Y"
_CONTRAST = re.compile(
    r"(?<![\w-])(?:versus|vs\.?)(?![\w-])|\b(?:compared? (?:with|to)|as opposed to|in contrast to|differs? from|different from|"
    r"distinguish(?:es)? from)\b", _I)
# "compare" before a preposition ("how does X compare with Y", "how do they compare for Z") names no side.
_BETWEEN = re.compile(r"\b(?:differences?|contrast|distinction|distinguish\w*|compare(?!\s+(?:with|to|for|in|on|at|by|\w+ly)\b)|"
                      r"comparison)\s+(?:between\s+)?"
                      r"(?P<a>.+?)\s+(?:and|with|to|from)\s+(?P<b>.+)$", _I)
_COMPARE_VERB = re.compile(r"^\s*(?:compare|contrast)\s+(?P<a>.+?)\s+(?:and|with|to)\s+(?P<b>.+)$", _I)
# Both sides before the verb: "How do X and Y differ (in …)?" (not "… compare with Z"), "What do X
# and Y have in common?", "In what ways are X and Y alike?"; and a choice put after the question:
# "Which is more important for metastasis, X or Y?".
_JOINT = re.compile(
    r"^\s*(?:(?:how|in what ways?|in which ways?)\s+(?:do|does|did|can|could|might|would)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+"
    r"(?:differ|compare|contrast|diverge)(?!\s+(?:with|to|from)\b)|what\s+(?:do|did)\s+(?P<c>.+?)\s+and\s+(?P<d>.+?)\s+have\s+in\s+common|"
    r"(?:how|in what ways?|in which ways?)\s+(?:are|were|is)\s+(?P<e>.+?)\s+and\s+(?P<f>.+?)\s+"
    r"(?:different|alike|similar|distinct))\b", _I)
_AUXILIARIES = r"(?:does|do|did|is|are|was|were|can|could|has|have|had|will|would|should|may|might|must)"
# The choice offered names things, asks nothing, and gives no examples ("…, e.g. toxicity or cost").
_OFFERED = r"(?:(?!\b(?:" + _WH + r"|" + _AUXILIARIES + r")\b)[^,?])+?"
# What the second side offered is followed by belongs to both: "men or women with sepsis".
_BOTH_SIDES_CONTEXT = re.compile(r"\s+(?:with|without|for|in|among|after|before|during|at|on|of|from|to|by|than|who|"
                                 r"that|undergoing|receiving|treated)\b.*$", _I)
# The question before a choice asks which is ahead ("Which is safer, X or Y?"), not for a list ("What
# factors are linked to X, Y or Z?").
_AHEAD = (r"(?:better|worse|best|worst|more|less|most|least|preferable|preferred|superior|inferior|safer|faster|"
          r"cheaper|higher|lower|greater|stronger|weaker|larger|smaller|first)")
_CHOSEN = re.compile(r"^\s*(?:which|what)\b[^,:]*\b" + _AHEAD + r"\b[^,:]*[,:](?!\s*(?:e\.g\.|i\.e\.|(?:and|but|such as|for example|"
                     r"for instance|including|like|especially|particularly)\b))\s*(?:is it\s+)?(?P<a>" + _OFFERED + r")\s+or\s+(?P<b>"
                     + _OFFERED + r")$", _I)
# A second question joined to the first: "…, and what are …", "…; how …", "… and which …", "…? What …"
_CLAUSE_BREAK = re.compile(r"(?:[?;]\s+|,\s*(?:and\s+|but\s+)?(?:also\s+|if so,?\s+|then\s+)?)(?=(?:(?:by|in|for|to|from|with|at|on|through)\s+)?"
                           r"(?:" + _WH + "|" + _AUXILIARIES + r")\b)"
                           r"|\s+(?:and|but)\s+(?:also\s+|if so,?\s+)?(?=(?:(?:by|in|for|to|from|with|at|on)\s+)?" + _WH + r"\b)", _I)
# A piece of a question that asks something: it opens with an auxiliary or holds a wh-word.
_QUESTION_START = re.compile(r"^\s*(?:" + _AUXILIARIES + r")\b|\b" + _WH + r"\b", _I)
# "When repairing a hernia, does …": a leading "when" or "where" that opens a clause of its own,
# with a subject and no auxiliary anywhere ("when stromal cells burn less glucose"), introduces a
# circumstance, not a question. One followed by an aside, an adverb or an auxiliary asks ("where,
# in the body, do …", "when exactly were …", "where do …").
_CIRCUMSTANCE = re.compile(r"^\s*(?:when|where)\s+(?!(?:exactly|precisely|else|if|ever|in|during|after|before|at|on|"
                           r"according)\b)(?!.*\b" + _AUXILIARIES + r"\b)[^\W\d_]", _I)
# "…, right?", "…, isn't it?": a statement put up for confirmation is a yes/no question.
_TAG = re.compile(r",\s*(?:right|correct|true|isn't (?:it|that)|aren't they|don't they|doesn't it)\s*\?\s*$", _I)
# "which X … and what does each do": a list whose members each get a finding.
_EACH = re.compile(r"\b(each|every one|respectively|individually)\b", _I)
# The verbs that open a request for a list, and for a summary ("list …", "summarise …").
_LIST_VERBS = r"list|name|enumerate|give"
_SUMMARY_VERBS = r"summari[sz]e|describe|outline|review|explain"
# A request opens the question, or follows a title or a sentence that sets the scene ("miR-21
# keeps coming up. Explain the roles it plays.", "Heart failure: how do SGLT2 inhibitors help?").
_REQUEST_START = r"(?:^|[.!?:;,])\s*"
# What follows "what/which" that is no kind of thing: an auxiliary, what happens, or a quantity of something.
_NO_KIND = (r"(?:is|are|was|were|does|do|did|has|have|happens|causes|explains|should|can|could|would|will|might|may)\b"
            r"|(?:proportion|percentage|number|fraction|rate|share|amount|dose|level|degree)s?\s+of\b")
# "give me a short overview of …" asks for a summary, not a list.
_GIVE_OVERVIEW = r"give\s+(?:me\s+|us\s+)?(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,2}(?:overview|summary|gist|outline|picture)\b"
_LIST = re.compile(_REQUEST_START + r"(?!" + _GIVE_OVERVIEW + r")(?:" + _LIST_VERBS + r")\b|\b(?:which|what)\s+(?:\w+\s+){0,3}?\w+s\b\s+(?:are|were|have|has)\b"
                   r"|\b(?:what|which)\s+(?:are|were)\s+the\s+(?:\w+\s+){0,3}?\w+s\b|\b(?:what|which) (?:kinds?|types?|sorts?|classes|categories) of\b"
                   # "what glycolysis-related proteins can exosomes hand over": a plural kind, then its verb's auxiliary
                   r"|\b(?:which|what)\s+(?!" + _NO_KIND + r")(?:[\w-]+\s+){0,2}?[\w-]{2,}[^\Wsiua]s\s+"
                   r"(?:can|could|do|did|might|may|will|would)\b"
                   r"|\bwhich (?:of the )?(?:(?:are|were)\s+)?(?:(?!" + _AUXILIARIES + r"\b)\w+\s+){0,2}?\w{2,}[^\Ws]s\b(?<!\bdoes)(?<!\bthis)"
                   # "what side effects of X in Y have been reported": the verb comes after the kind's qualifiers
                   r"|\b(?:which|what)\s+(?!" + _NO_KIND + r")(?:[\w-]+\s+){0,3}?[\w-]{2,}[^\Wsiu]s\b"
                   r"(?:(?!\b(?:who|that|whose|which|whom|where)\b)[^?.;]){0,120}?\b(?:have|has) been\b", _I)
# "how do …" after a title or a leading phrase too ("Big picture please: how do …"), and the idioms
# of asking for the whole of a topic ("the gist of", "in a nutshell", "pull together everything").
_SUMMARY = re.compile(_REQUEST_START + r"(?:" + _SUMMARY_VERBS + r"|overview|" + _GIVE_OVERVIEW + r"|how (?:do|does|did|can|could|might))\b|"
                      r"\b(?:overview|summary|outline) of\b|\bwhat (?:is|does the \w+) (?:known|say|report)\b|"
                      r"\b(?:gist|big picture|nutshell|recap|sum up|summing up|main (?:argument|points|messages?|takeaways?)|"
                      r"key (?:points|messages?|takeaways?))\b|\b(?:pull|bring|put) together (?:everything|all|the evidence|what)\b|"
                      r"\beverything (?:we know|(?:that )?is known|(?:the |these |this )?\w+ (?:says?|reports?))\b|\bwhat do we know\b", _I)
_LEADING_WORDS = re.compile(r"^\s*(?:and|but|also|then)\s+", _I)
# A request put politely ("Can you explain …?", "Please list …") asks what the rest asks, and
# "tell me whether X" asks whether X.
_POLITE = re.compile(r"^\s*" + POLITELY + r"(?=\w)", _I)
_TELL_WHETHER = re.compile(r"^\s*(?:tell|show)\s+(?:me|us)\s+(?:whether|if)\s+", _I)
# A request ("explain …?") is no statement put up for confirmation.
_REQUEST = re.compile(r"^\s*(?:" + _SUMMARY_VERBS + "|" + _LIST_VERBS + r"|tell|show|compare|contrast)\b", _I)


# "which X …", "what X …": X is the kind of thing the answer names, not a word it must repeat.
_ASKED_KIND = re.compile(r"\b(?:which|what)\s+(?!(?:each|it|its|they|their|these|those|this|that)\b)"
                         r"((?:(?!(?:is|are|was|were|do|does|did|can|could|have|has|had)\b)[\w-]+\s+){0,3}?"
                         r"[\w-]+?)(?=\s+(?:is|are|was|were|do|does|did|can|could|have|has|had|of|in|on|from|by|that)\b|[,?]|$)",
                         re.IGNORECASE)
# "list the exosomal miRNAs mentioned …", "name all the drugs that …": the kind a request lists.
_LISTED_KIND = re.compile(_REQUEST_START + r"(?:list|name|enumerate)\s+(?:(?:all\s+)?(?:the|some|any)\s+|all\s+)?"
                          r"((?:[\w-]+\s+){0,3}?[\w-]+?)(?=\s+(?:that|which|who|mentioned|discussed|described|reported|named|"
                          r"in|of|from|on|by|and|with|involved|used)\b|[,?.;:]|$)", re.IGNORECASE)


def _plural(word: str) -> bool:
    return bool(re.fullmatch(r"\w{3,}[^\Ws]s", word))


def _kind_heads(question: str) -> list[str]:
    # A request lists a kind only when it names one in the plural ("list the miRNAs …", not "name the gene …").
    listed = [m.group(1).split() for m in _LISTED_KIND.finditer(_POLITE.sub("", question))]
    heads = [next(w for w in words if _plural(w)) for words in listed if any(_plural(w) for w in words)]
    for match in _ASKED_KIND.finditer(question):
        words = match.group(1).split()
        # The head noun: the first plural ("strategies" in "therapeutic strategies target …"), else the last word.
        heads.append(next((w for w in words if _plural(w)), words[-1]))
    return heads


def asked_kind(question: str) -> str | None:
    """The kind of thing a "which/what X" question asks for (``microRNAs`` in "which exosomal microRNAs")."""
    heads = _kind_heads(question)
    return heads[0] if heads else None


def asked_kind_terms(question: str) -> set[str]:
    """The tokens of the kinds a question asks for (see ``asked_kind``)."""
    return {t for head in _kind_heads(question) for t in tokenize(head)}


@dataclass(frozen=True)
class Facet:
    """One part of a complete answer. ``text`` is what is asked, as the question words it;
    ``query`` is what retrieval searches for (the part with the question's topic, where the part
    only points back at it with "its" or "these")."""

    text: str
    query: str


@dataclass(frozen=True)
class QuestionShape:
    shape: Shape
    facets: list[Facet]
    # The things a comparison sets side by side (each also a facet).
    sides: list[str] = field(default_factory=list)
    # Whether each member of a list gets a finding of its own ("… and what does each do?").
    each: bool = False

    @property
    def broad(self) -> bool:
        return self.shape in BROAD_SHAPES


# A title before the question proper: "Amblyopia: is visual loss permanent?", "IVF -- is it …?"
_TITLE_BREAK = re.compile(r"\s*(?::|--|\s[-\u2013\u2014]\s)\s*")
_ANY_WH = re.compile(r"\b" + _WH + r"\b", _I)


def yes_no_clause(question: str) -> str | None:
    """The part of ``question`` that asks yes or no, or None: an auxiliary first ("Does X …?"),
    after a title ("Amblyopia: is visual loss permanent?"), a tag ("…, right?"), or a statement
    asked with no question word ("A disaster waiting to happen?"). A choice ("X or Y?") is not."""
    text = _without_asking(question)
    if _TAG.search(text):
        return text
    clause = _TITLE_BREAK.split(text)[-1] if _TITLE_BREAK.search(text) else text
    pieces = _CLAUSE_BREAK.split(clause)
    if len(pieces) == 2 and not _asks(pieces[0]):
        clause = pieces[1]  # after a leading phrase: "Besides raising their number, does hypoxia …?"
    if AUXILIARY_FIRST.match(clause) and not offers_choice(clause):
        return clause
    if text.endswith("?") and not _ANY_WH.search(text) and not offers_choice(text) and not _REQUEST.match(text):
        return text
    return None


def _without_asking(question: str) -> str:
    """``question`` without a polite opening or "tell me whether", asked positively."""
    return asked_positively(_TELL_WHETHER.sub("", _POLITE.sub("", question.strip())))


# "Doesn't X …?" and "Isn't X …?" ask whether X …, as "…, or not?" does: neither denies anything.
# The auxiliary opens the question or its clause after a title or a leading phrase ("In breast
# cancer, doesn't hypoxia …?"); a tag ("…, don't they?") is left as it is.
_NEGATIVE_AUXILIARY = re.compile(r"(^\s*|[:;,]\s+|\s[-\u2013\u2014]\s+)(" + _AUXILIARIES + r"n['\u2019]t|can['\u2019]t|cannot|"
                                 r"won['\u2019]t)\b(?!\s+(?:it|they|that|this|you|we|he|she|there)\s*\?*\s*$)", _I)
_IRREGULAR = {"can't": "can", "cannot": "can", "won't": "will"}
_OR_NOT = re.compile(r"\s*\(\s*or not\s*\)|,?\s+or not(?=\W*$|\s+that\b)", _I)


def asked_positively(question: str) -> str:
    """``question`` with a negative auxiliary opening it (or its clause) made positive ("Doesn't"
    -> "Does") and an "or not" taken out; "Does X not …?" still asks about a negation."""
    def positive(match: re.Match[str]) -> str:
        negative = match.group(2)
        word = _IRREGULAR.get(negative.casefold().replace("\u2019", "'"), negative[:-3])
        return match.group(1) + (word.capitalize() if negative[0].isupper() else word)

    return _OR_NOT.sub("", _NEGATIVE_AUXILIARY.sub(positive, question))


def yes_no_claim(question: str) -> str | None:
    """What a yes/no question asks about: its yes/no clause read with the title it follows, which
    names what the clause speaks of ("Double reading of barium enemas: is it necessary?"). A title
    holding a negation ("Yes or no: …", "Not sure: …") is no topic, nor is the "1" of "In a 1:1
    trial, …". None if the question asks no yes or no."""
    clause = yes_no_clause(question)
    if clause is None:
        return None
    title = _without_asking(question)[:-len(clause)]
    if not _TITLE_BREAK.search(title) or re.search(r"\d\s*:\s*\d", question):
        return clause
    title = _TITLE_BREAK.sub(" ", title).strip()
    return clause if any(is_negation(word) for word in re.findall(r"[\w'-]+", title.casefold())) else f"{title} {clause}"


def offers_choice(text: str) -> bool:
    """Whether ``text`` offers alternatives to choose from ("X or Y?"), outside brackets and
    idioms whose "or" offers none ("aged 80 or older", "with or without")."""
    return bool(_CHOICE.search(_NO_CHOICE.sub("", re.sub(r"\([^)]*\)", "", text))))


def asks_about_each(text: str) -> bool:
    """Whether ``text`` asks about each of several things ("… and what did each one show?")."""
    return bool(_EACH.search(text))


def asks_for_list(text: str) -> bool:
    """Whether ``text`` asks for the members of a kind ("which microRNAs …", "list the …")."""
    return bool(_LIST.search(text))


def _clean(text: str) -> str:
    return _LEADING_WORDS.sub("", text).strip(" ,;:?.")


# What follows the second side and belongs to both ("X and Y after hip surgery"): it stays in the question.
_SHARED_CONTEXT = re.compile(r"\s+(?:in|for|when|after|before|during|among|with respect to|regarding)\s+(?:terms of\s+)?", _I)


# What ends the sides of a comparison: a colon, a dash, or a comma before the question ("X versus
# Y, which is better?").
_SIDES_END = re.compile(r":\s+|\s[-\u2013\u2014]\s|,\s*(?=(?:which|what|how|why|when|where|who|is|are|does|do|did|can|"
                        r"should|was|were)\b)", _I)
# Words that point at the sides or say which is ahead rather than name one ("is either different from
# placebo?", "which is better compared with placebo?").
_NO_SIDE = frozenset({"it", "they", "them", "either", "neither", "both", "each", "one", "these", "those", "this", "that",
                      "better", "worse", "more", "less", "higher", "lower", "greater", "fewer", "superior", "inferior"})


def _second_side(first: str, second: str) -> str:
    """``second`` without the context both sides share; when both sides name the same thing in
    their own context ("mortality in men and mortality in women"), the second's context is its own."""
    head = _SHARED_CONTEXT.split(second, maxsplit=1)[0]
    if _SHARED_CONTEXT.search(first) and head.split()[-1:] == _SHARED_CONTEXT.split(first, maxsplit=1)[0].split()[-1:]:
        return second
    return head


def _sides(question: str) -> list[str] | None:
    body = question.strip().rstrip("?. ")
    # "Genetic versus epigenetic: how does X differ from Y?": a question after a headline that asks
    # nothing, comparing things it names, is the comparison ("…: is either better?" names none).
    headline, _, asked = body.partition(": ")
    if asked and not _asks(_clean(headline)):
        inner = _sides_of(asked)
        # "X compared with Y: how do survival and graft function compare?" compares measures across
        # the headline's sides.
        measures = bool(_JOINT.search(asked)) and _sides_of(headline) is not None
        if inner and not measures and not any(side.casefold() in _NO_SIDE for side in inner):
            return inner
    return _sides_of(body)


def _sides_of(body: str) -> list[str] | None:
    if joint := _JOINT.search(body):
        sides = [_clean(side) for side in joint.groups() if side]
    elif (chosen := _CHOSEN.search(body)) and not _LIST.search(body[:chosen.start("a")]):  # "Which miRNAs …, in X or Y?" still lists
        sides = [_clean(chosen.group("a")), _clean(_BOTH_SIDES_CONTEXT.sub("", chosen.group("b")))]
    else:
        sides = []
    if sides:
        return sides if all(side and side.casefold() not in _NO_SIDE for side in sides) else None
    for pattern in (_COMPARE_VERB, _BETWEEN):
        match = pattern.search(body)
        if match:
            second = _SIDES_END.split(match.group("b"), maxsplit=1)[0]
            return [_clean(match.group("a")), _clean(_second_side(match.group("a"), second))]
    match = _CONTRAST.search(body)
    if not match:
        return None
    if len(_clauses(body[: match.start()])) > 1:
        return None  # a comparison asked in a later part: the question has several parts
    # "X versus Y: which is better?", "Hip fracture: nail versus screw, which …?": the sides end there.
    before = _SIDES_END.split(body[: match.start()])[-1]
    after = _SIDES_END.split(body[match.end():], maxsplit=1)[0]
    # "How does X differ from Y" (after a leading phrase: "In women with eclampsia, how did X compare
    # with Y"): the side is what follows the auxiliary.
    asked = re.search(r"(?:^|\b" + _WH + r")\s*(?:\w+\s+)?(?:does|do|did|is|are|was|were)\s+(?P<side>.+)$", before, flags=_I)
    before = asked.group("side") if asked else before
    before = re.sub(r"\s+(?:is|are|was|were)\s*$", "", before, flags=_I)
    sides = [_clean(before), _clean(_second_side(before, after))]
    return sides if all(sides) else None


def _without(text: str, parts: list[str]) -> str:
    """``text`` without ``parts``, each taken out only as whole words: "operative" leaves the
    "non-operative" of the other side whole."""
    for part in parts:
        text = re.sub(whole_word(re.escape(part)), " ", text, flags=_I)
    return text


def _clauses(question: str) -> list[str]:
    """The questions ``question`` asks; a leading phrase that asks nothing ("In GBM, which …",
    "Besides X, what …") stays with the question after it."""
    clauses: list[str] = []
    leading = ""
    for piece in _CLAUSE_BREAK.split(question.strip()):
        asks = _asks(_clean(piece))
        piece = _clean(f"{leading}, {piece}" if leading else piece)
        if not asks:
            leading = piece if not clauses else ""
            if clauses:
                clauses[-1] = f"{clauses[-1]}, {piece}"
            continue
        leading = ""
        if piece.casefold() not in (clause.casefold() for clause in clauses):  # the same question pasted twice
            clauses.append(piece)
    return clauses or [_clean(question)]


def _asks(piece: str) -> bool:
    """Whether a piece of a question asks something (a leading circumstance does not)."""
    circumstance = _CIRCUMSTANCE.match(piece)
    if circumstance:
        return bool(_ANY_WH.search(piece, circumstance.end()))
    return bool(_QUESTION_START.search(piece))


def read_shape(question: str) -> QuestionShape:
    """The shape and facets of ``question`` (see the module docstring)."""
    whole = Facet(question.strip(), question.strip())
    question = asked_positively(_POLITE.sub("", question))
    sides = _sides(question)
    if sides:
        # Each side is searched with the question's other words but without the other side.
        facets = [Facet(side, " ".join(_without(question, [o for o in sides if o != side]).split())) for side in sides]
        return QuestionShape("comparison", facets, sides=sides)
    clauses = _clauses(question)
    each = asks_about_each(question)
    if len(clauses) > 1:
        first = clauses[0]
        if each and _LIST.search(first):
            return QuestionShape("list", [whole], each=True)
        # Later parts ("what are its limitations") are searched with the first part's topic.
        facets = [Facet(c, c if i == 0 and len(c.split()) > 3 else f"{c} {first if i else question}")
                  for i, c in enumerate(clauses)]
        return QuestionShape("multi_part", facets)
    if yes_no_clause(question):
        return QuestionShape("yes_no", [whole])
    if _LIST.search(question):
        return QuestionShape("list", [whole], each=each)
    if _SUMMARY.search(question):
        return QuestionShape("summary", [whole])
    return QuestionShape("fact", [whole])
