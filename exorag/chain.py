"""The one entry point every view calls: ``answer()`` and its streaming twin ``answer_stream()``.

question -> (follow-up made standalone) -> hybrid retrieval -> answerability checks -> generator
draft -> evidence ids mapped to canonical citations -> verification -> answerability of the answer
-> Answer. The parts (retriever, answerability checks) are those of ``exorag.pipelines.EXORAG``
unless the caller passes others, e.g. ``PLAIN``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from exorag.answerability import ANSWERABLE, Assessment, assess_answer, assess_evidence
from exorag.citations import asked_references, format_numbers, split_ending
from exorag.config import Settings, get_settings
from exorag.embeddings import CachedTextEmbedder, get_embeddings
from exorag.facet_relevance import has_rare_word, unused_rare_word
from exorag.facets import annotate, gather_evidence, plan_assessment, with_following_passages
from exorag.generate import Draft, DraftSentence, GenerationContext, get_generator
from exorag.generate.extractive import asks_for_finding, reference_draft
from exorag.generate.llm import omitted_findings
from exorag.generate.repair import best_supporting_sentence
from exorag.judge import Judge, runtime_judge
from exorag.models import Answer, Evidence, ReasonCode, Reference, Sentence, SourceKind
from exorag.pipelines import EXORAG, Parts
from exorag.references import REFERENCES_FILE, load_references
from exorag.retrieve import Filters, Hit, PassageRetriever
from exorag.shape import Facet, QuestionShape, read_shape
from exorag.store.chroma import forget_open_indexes
from exorag.store.index import Index
from exorag.text import english_rarity, named_entities, question_terms, tokenize, well_formed
from exorag.verify import verify_sentence

# A broad question is judged part by part, except where the whole question's evidence fails on
# relevance or names: then no part can be answered from it either (a comparison of things the
# corpus never discusses, a list of a kind it never names).
WHOLE_QUESTION_VETOES = {ReasonCode.NO_EVIDENCE, ReasonCode.NO_RELEVANT_EVIDENCE, ReasonCode.NAMED_ENTITY_ABSENT}


class AnswerOptions(BaseModel):
    generator: Literal["extractive", "llm"] | None = None
    k: int | None = None
    source_kind: SourceKind | None = None
    sections: list[str] | None = None
    refs: list[int] | None = None
    history: list[tuple[str, str]] = Field(default_factory=list)


class StreamEvent(BaseModel):
    """``token`` events carry answer text as it is produced; the last event is ``answer``."""

    kind: Literal["status", "token", "answer"]
    text: str = ""
    answer: Answer | None = None


class Pipeline:
    """The loaded parts for one index: model, Chroma, lexical index, retriever, reference list."""

    def __init__(self, settings: Settings, parts: Parts = EXORAG):
        self.settings = settings
        self.parts = parts
        self.embeddings = get_embeddings(settings)
        self.index = Index(settings)
        self.retriever: PassageRetriever = parts.retriever(self.index, self.embeddings.embed_query)
        self.references, _ = load_references(settings.corpus / REFERENCES_FILE)
        self.embed_texts = CachedTextEmbedder(self.embeddings)
        self.judge = runtime_judge(settings)

    def term_weight(self, token: str, word: str) -> float:
        """Corpus specificity of a known token; English rarity of a word the corpus never uses."""
        lexical = self.index.lexical
        if lexical.knows(token):
            return lexical.specificity(token)
        return english_rarity(word)

    def context(self, question_vector: np.ndarray) -> GenerationContext:
        return GenerationContext(term_weight=self.term_weight, embed_texts=self.embed_texts,
                                 question_vector=question_vector, centroid=self.index.lexical.centroid)


_pipelines: dict[tuple, Pipeline] = {}
_pipelines_lock = threading.Lock()


def get_pipeline(settings: Settings, parts: Parts = EXORAG) -> Pipeline:
    """The pipeline of ``parts`` for ``settings``, loaded once per process, index and judge."""
    settings = parts.configure(settings)
    key = (parts.name, str(settings.index.resolve()), settings.chroma_url, settings.collection, str(settings.corpus.resolve()),
           settings.judge)
    with _pipelines_lock:
        pipeline = _pipelines.get(key)
        if pipeline is not None and pipeline.index.vectors.generation != pipeline.index.lexical.generation:
            forget_open_indexes()  # another process changed the index: read it afresh
            pipeline = None
        if pipeline is None:
            pipeline = _pipelines[key] = Pipeline(settings, parts)
        return pipeline


def reset_pipelines() -> None:
    """Forget loaded pipelines (after an ingest in the same process)."""
    with _pipelines_lock:
        _pipelines.clear()


# The words of a question about a reference itself ("What does reference 182 report?"), besides its number.
ASKING_TERMS = frozenset(tokenize("say says said report reports reported show shows showed shown find finds found state "
                                  "states stated summarise summarize summary overview describe paper papers study studies "
                                  "article work review cite cites cited mention mentions discuss discusses conclude "
                                  "concludes claim claims give"))
_FOLLOW_UP = re.compile(r"^\s*(and|also|what about|how about|what of|but|so|then|same|in)\b", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(it|its|they|them|their|this|that|these|those|there|such)\b", re.IGNORECASE)
# "And TGF-β?", "What about IL-6 and TNF-α?": names put in place of the previous question's.
_JOINING = re.compile(r"\b(?:and|or)\b|[,;?!.\s]+", re.IGNORECASE)


def condense_question(question: str, history: list[tuple[str, str]]) -> str:
    """A follow-up ("and in melanoma?") made standalone with the topic of the previous question.

    A short question that names a thing of its own ("What is GW4869?") stands alone; one that only
    swaps the thing the previous question named ("And TGF-β?") asks that question of it."""
    if not history:
        return question
    previous = history[-1][0]
    asked = question.strip()
    marked = _FOLLOW_UP.match(asked)
    names = _names(asked)
    named_before = _names(previous)
    before, kind = next(iter(named_before.items())) if len(named_before) == 1 else ("", None)
    # Only a name of the same specific kind takes the other's place: a microRNA another's, a coded
    # name (PD-L1, TGF-β) another's; a disease's acronym put in a molecule's place asks nonsense.
    if (marked and kind in _SWAPPABLE_KINDS and set(names.values()) == {kind}
            and not _JOINING.sub("", _without_names(asked[marked.end():], names))):
        return previous.replace(before, " and ".join(names), 1)
    few_terms = len(set(tokenize(asked))) <= 3
    # A complete question ("What is GW4869?", "What is angiogenesis?") naming a thing of its own.
    own_topic = bool(_QUESTION_WORD.match(asked)) and (bool(names) or has_rare_word(asked))
    if marked or (few_terms and _PRONOUN.search(asked)) or (len(asked.split()) <= 4 and not own_topic):
        return f"{previous.rstrip(' ?.')}: {asked}"
    return question


_SWAPPABLE_KINDS = frozenset({"mirna", "coded"})
_QUESTION_WORD = re.compile(r"^\s*(?:what|which|who|how|why|where|when|is|are|was|were|does|do|did|can|could)\b", re.IGNORECASE)


def _names(text: str) -> dict[str, str | None]:
    """The named entities of ``text``, each with its kind."""
    return {name: kind for _, _, name, kind in named_entities(text)}


def _without_names(text: str, names: dict[str, str | None]) -> str:
    for name in names:
        text = text.replace(name, " ")
    return text


def _evidence_from(hits: list[Hit]) -> list[Evidence]:
    return [
        Evidence(
            id=f"e{rank}",
            chunk_id=hit.chunk.chunk_id,
            source_label=hit.chunk.source_label,
            source_path=hit.chunk.source_path,
            source_kind=hit.chunk.source_kind,
            page=hit.chunk.page,
            page_label=hit.chunk.page_label,
            section=hit.chunk.section,
            refs=hit.chunk.refs,
            text=hit.chunk.text,
            score=round(hit.cosine, 4),
        )
        for rank, hit in enumerate(hits, start=1)
    ]


def cite(text: str, citation: str) -> str:
    """``text`` with ``citation`` placed before its closing punctuation: ``... activation [170-172].``"""
    body, ending = split_ending(text)
    return f"{body} {citation}{ending}"


def abstention(question: str, assessment: Assessment, evidence: list[Evidence], generator: str) -> Answer:
    """The Answer that says the literature does not answer, with the failed check's code and reason."""
    reason = assessment.reason or "The indexed literature does not answer this question."
    return Answer(question=question, answer=reason, abstained=True, reason=reason, reason_code=assessment.code,
                  evidence=evidence, generator=generator)


def build_answer(question: str, draft: Draft, evidence: list[Evidence], generator: str,
                 references: dict[int, Reference], judge: Judge | None = None,
                 completion: Callable[[list[str]], list[DraftSentence]] | None = None) -> Answer:
    """Map a draft to a verified Answer: citations from evidence only, unsupported sentences out.

    A sentence is dropped when it cites no known evidence or the judge (default: the runtime
    judge of the settings' index) finds it contradicted by its evidence; one the judge does not
    find supported stays, flagged, unless a model wrote it and no passage speaks to it (a model's
    sentence failing verification is first replaced by the evidence sentence that makes its point).
    ``completion`` gives, from the texts of the sentences found supported, the sentences to verify
    and add after them (the findings of the extractive answer a model left out).
    """
    judge = judge or runtime_judge(get_settings())
    if draft.abstain_reason:
        return abstention(question, Assessment(draft.abstain_code, draft.confidence, draft.abstain_reason), evidence, generator)
    by_id = {e.id: e for e in evidence}
    sentences: list[Sentence] = []

    def verified(drafted: DraftSentence) -> Sentence | None:
        cited = [by_id[i] for i in dict.fromkeys(drafted.evidence_ids) if i in by_id]
        if not drafted.text.strip():
            return None
        check = verify_sentence(drafted.text, [e.text for e in cited], judge)
        repaired = False
        # A model's sentence that fails is replaced by the evidence sentence that best makes its point.
        if generator == "llm" and not check.supported:
            replacement = best_supporting_sentence(drafted.text, cited, evidence)
            if replacement is not None:
                drafted, repaired = replacement, True
                cited = [by_id[i] for i in replacement.evidence_ids]
                check = verify_sentence(drafted.text, [e.text for e in cited], judge)
        # What a model writes that no passage speaks to is its own claim, however it is cited.
        invented = generator == "llm" and check.verdict == "not_found"
        if not cited or check.verdict == "contradicted" or invented or any(s.text == drafted.text.strip() for s in sentences):
            return None
        available = {n for e in cited for n in e.refs}
        refs = available if drafted.refs is None else drafted.refs & available
        citation = format_numbers(refs) if refs else "[" + "; ".join(dict.fromkeys(e.source_label for e in cited)) + "]"
        return Sentence(text=drafted.text.strip(), citation=citation, refs=sorted(refs), evidence_ids=[e.id for e in cited],
                        support=round(check.score, 4), verdict=check.verdict, flagged=not check.supported, repaired=repaired)

    sentences += filter(None, map(verified, draft.sentences))
    if completion and sentences:
        sentences += filter(None, map(verified, completion([s.text for s in sentences if s.verdict == "supported"])))
    if not sentences:
        return abstention(question, Assessment(ReasonCode.UNSUPPORTED_DRAFT, 0.0, "No sentence of the draft answer was "
                                               "supported by the retrieved evidence."), evidence, generator)
    cited_numbers = sorted({n for s in sentences for n in s.refs})
    kinds = {by_id[i].source_kind for s in sentences for i in s.evidence_ids}
    return Answer(
        basis="review and literature" if len(kinds) > 1 else kinds.pop(),
        question=question,
        answer=" ".join(cite(s.text, s.citation) for s in sentences),
        sentences=sentences,
        evidence=evidence,
        references=[references[n] for n in cited_numbers if n in references],
        generator=generator,
    )


def _well_formed(question: str, options: AnswerOptions) -> tuple[str, AnswerOptions]:
    history = [(well_formed(asked), well_formed(said)) for asked, said in options.history]
    return well_formed(question), options.model_copy(update={"history": history})


def _retrieve(question: str, options: AnswerOptions, pipeline: Pipeline, settings: Settings
              ) -> tuple[str, list[Hit], Filters, np.ndarray]:
    standalone = condense_question(question, options.history)
    filters = Filters(options.source_kind, options.sections, options.refs)
    question_vector = np.asarray(pipeline.embeddings.embed_query(standalone), dtype=np.float32)
    hits = pipeline.retriever.search(standalone, options.k or settings.k, filters, question_vector)
    return standalone, hits, filters, question_vector


def _finish(question: str, standalone: str, draft: Draft, evidence: list[Evidence], generator: str,
            pipeline: Pipeline, timings: dict[str, float], started: float, shape: QuestionShape,
            completion: Callable[[list[str]], list[DraftSentence]] | None = None) -> Answer:
    verify_started = time.perf_counter()
    result = build_answer(question, draft, evidence, generator, pipeline.references, pipeline.judge, completion)
    # A broad question's parts are checked one by one, and a part left open is named, not refused.
    if not result.abstained and not shape.broad and pipeline.parts.checks:
        # On topic is not enough: asked for a mouse strain or a survival figure, the answer must state one.
        assessment = assess_answer(standalone, [s.text for s in result.sentences], [e.text for e in result.cited_studies()])
        if not assessment.answerable:
            result = abstention(question, assessment, evidence, generator)
    timings["verify"] = (time.perf_counter() - verify_started) * 1000
    timings["total"] = (time.perf_counter() - started) * 1000
    result.timings_ms = {key: round(value, 2) for key, value in timings.items()}
    if standalone != question:
        result.standalone_question = standalone
    return result


def search(question: str, options: AnswerOptions | None = None, settings: Settings | None = None) -> list[Evidence]:
    """The passages ``answer()`` would give the generator for ``question``, with no generation."""
    settings = settings or get_settings()
    question, options = _well_formed(question, options or AnswerOptions())
    _, hits, _, _ = _retrieve(question, options, get_pipeline(settings), settings)
    return _evidence_from(hits)


def answer(question: str, options: AnswerOptions | None = None, settings: Settings | None = None,
           parts: Parts = EXORAG) -> Answer:
    """Answer ``question`` from the index: every sentence cited, verified, or an abstention."""
    for event in answer_stream(question, options, settings, parts):
        if event.kind == "answer" and event.answer is not None:
            return event.answer
    raise RuntimeError("answer_stream ended without an answer")


def answer_stream(question: str, options: AnswerOptions | None = None, settings: Settings | None = None,
                  parts: Parts = EXORAG) -> Iterator[StreamEvent]:
    """Like ``answer()``, yielding the answer's text as it is generated and then the verified Answer.

    Streamed text is the draft: the final Answer may drop or flag sentences that fail verification,
    or abstain when no sentence states what the question asks for.
    """
    question, options = _well_formed(question, options or AnswerOptions())
    settings = parts.configure(settings or get_settings())
    pipeline = get_pipeline(settings, parts)  # loading the model and index once is not part of an answer's time
    started = time.perf_counter()
    generator_name = options.generator or settings.generator
    asked_refs, rest = asked_references(question)
    # "What does reference 182 report?" asks what the passages citing it say, whatever their words.
    about_refs = bool(asked_refs) and not set(question_terms(rest)) - ASKING_TERMS
    # "What does [182] say about PD-L1?" is asked of its passages; a bracketed number no passage cites
    # beside a topic ("Smith [2019] found …") is no reference of this corpus, and narrows nothing.
    if asked_refs and not options.refs and (about_refs or pipeline.index.lexical.allowed(None, None, sorted(asked_refs)).any()):
        options = options.model_copy(update={"refs": sorted(asked_refs)})
    standalone, hits, filters, question_vector = _retrieve(question, options, pipeline, settings)
    held_back = hits.held_back  # sources kept from the generator: their text reads as instructions
    shape = QuestionShape("summary", [Facet(question, question)]) if about_refs else read_shape(standalone)
    plan = None
    assess_s = 0.0  # the answerability checks' time, the per-part ones of a broad question included
    lexical = pipeline.index.lexical
    mask = lexical.allowed(filters.source_kind, filters.sections, filters.refs)  # the filters' passages, no suspect one
    if shape.broad and hits and parts.checks and not about_refs:
        # Each part is searched and judged on its own: the parts need not share a passage.
        def judge(facet: str, facet_hits: list[Hit], vector: np.ndarray) -> Assessment:
            nonlocal assess_s
            judge_started = time.perf_counter()
            assessment = assess_evidence(facet, _evidence_from(facet_hits), pipeline.context(vector), lexical,
                                         mask, settings, linked=False)
            assess_s += time.perf_counter() - judge_started
            return assessment

        plan = gather_evidence(pipeline, standalone, shape, filters, mask, hits, question_vector, judge)
        hits = plan.hits
    timings = {"retrieve": (time.perf_counter() - started - assess_s) * 1000}
    evidence = _evidence_from(hits)
    context = pipeline.context(question_vector)
    context.plan = plan
    assessment = ANSWERABLE
    if parts.checks and not about_refs:
        assess_started = time.perf_counter()
        assessment = assess_evidence(standalone, evidence, context, lexical, mask, settings, linked=standalone == question)
        # A question of several parts whose first part the literature answers, in words it uses, is
        # judged by its parts: the later parts' words dilute the whole question's relevance.
        first_answered = (plan is not None and shape.shape == "multi_part" and bool(plan.facets)
                          and plan.facets[0].assessment.answerable
                          and unused_rare_word(lexical, plan.facets[0].facet.text) is None)
        vetoes = WHOLE_QUESTION_VETOES - {ReasonCode.NO_RELEVANT_EVIDENCE} if first_answered else WHOLE_QUESTION_VETOES
        if plan is not None and assessment.code not in vetoes:
            assessment = plan_assessment(plan)
        timings["assess"] = (time.perf_counter() - assess_started + assess_s) * 1000
    generate_started = time.perf_counter()
    if assessment.answerable and plan is None and parts.checks and hits and hits[0].chunk.source_kind == "literature" \
            and asks_for_finding(standalone):
        # A question on what a study found matches its aim or methods best; its results follow them in
        # the paper, worded apart from the question: they are read after the search's passages (whether
        # the literature answers rested on those alone).
        present = {hit.chunk.chunk_id for hit in hits}
        following = with_following_passages(pipeline, hits[:1], question_vector, mask, leading=1)[1:]
        hits = [*hits, *(hit for hit in following if hit.chunk.chunk_id not in present)]
        evidence = _evidence_from(hits)
    if not assessment.answerable:
        draft = Draft(abstain_reason=assessment.reason, abstain_code=assessment.code, confidence=assessment.score)
    elif about_refs:
        generator_name = "extractive"
        draft = reference_draft(asked_refs, evidence)
    else:
        generator = get_generator(generator_name, settings)
        draft = Draft(abstain_reason="The generator returned nothing.", abstain_code=ReasonCode.UNSUPPORTED_DRAFT)
        for piece in generator.stream(standalone, evidence, context):
            if isinstance(piece, Draft):
                draft = piece
            else:
                yield StreamEvent(kind="token", text=piece)
    timings["generate"] = (time.perf_counter() - generate_started) * 1000
    added: list[DraftSentence] = []
    completion = None
    if generator_name == "llm" and (shape.broad or shape.shape == "yes_no"):
        # A model's broad or yes/no answer is followed by the findings its verified sentences leave out.
        def completion(written: list[str]) -> list[DraftSentence]:
            quoted = get_generator("extractive", settings).generate(standalone, evidence, context).sentences
            added.extend(omitted_findings(written, quoted))
            return added

    result = _finish(question, standalone, draft, evidence, generator_name, pipeline, timings, started, shape, completion)
    added_texts = {sentence.text.strip() for sentence in added}
    for sentence in result.sentences:
        if sentence.text in added_texts:
            yield StreamEvent(kind="token", text=" " + cite(sentence.text, sentence.citation))
    result.held_back = held_back
    yield StreamEvent(kind="answer", answer=annotate(result, shape, draft, plan) if parts.checks else result)
