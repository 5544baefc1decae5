"""A generated corpus for benchmarks: realistic exosome-biology text in DESIGN.md's corpus layout,
sized in chunks, deterministic from a seed, with a known answer passage for every query.

The corpus is a review (``review/review.md``) and numbered papers (``literature/00042-li2019.md``),
full papers and abstracts, whose sentences cite other papers as ``[12]``, ``[59, 61]``,
``[170-172]`` or ``[13-16, 14]``. Every paragraph holds 45-118 words, so exorag cuts exactly one
chunk from each and the chunk count is known before ingest.

Each query has one answer passage: a paragraph that states a unique finding (an exosomal
microRNA, the cell line that releases it, the gene it silences and the cells it acts on). Hard
negatives are planted elsewhere: the same gene with another microRNA and cell line, the same cell
line with another gene, and the same microRNA without the mechanism.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

# Bump when the generated text changes: a cached corpus (and its cached embeddings) is then rebuilt.
GENERATOR_VERSION = 1
MANIFEST = "bench-corpus.json"
QUERIES = "queries.jsonl"
MIN_NEEDLES = 200
MAX_QUERIES = 2000
MAX_PARAGRAPH_WORDS = 118

CANCERS = {
    "breast cancer": ["MDA-MB-231", "MCF-7", "4T1", "T47D", "SUM159", "BT-549"],
    "glioblastoma": ["U87", "U251", "LN229", "T98G"],
    "hepatocellular carcinoma": ["HepG2", "Huh7", "SK-HEP-1", "MHCC97H", "Hep3B"],
    "melanoma": ["B16-F10", "A375", "SK-MEL-28", "WM266-4"],
    "pancreatic cancer": ["PANC-1", "BxPC-3", "MIA PaCa-2", "AsPC-1", "Capan-2"],
    "colorectal cancer": ["HCT116", "SW480", "SW620", "LoVo", "HT-29", "DLD-1"],
    "lung adenocarcinoma": ["A549", "H1299", "PC-9", "Calu-3", "H1975"],
    "ovarian cancer": ["SKOV3", "OVCAR-3", "A2780", "CAOV3"],
    "prostate cancer": ["PC-3", "DU145", "LNCaP", "22Rv1"],
    "gastric cancer": ["AGS", "MKN45", "SGC-7901", "HGC-27"],
    "bladder cancer": ["T24", "5637", "UM-UC-3"],
    "renal cell carcinoma": ["786-O", "Caki-1", "ACHN"],
    "head and neck squamous cell carcinoma": ["FaDu", "Cal27", "SCC-25"],
    "osteosarcoma": ["U2OS", "143B", "MG-63", "Saos-2"],
    "cervical cancer": ["HeLa", "SiHa", "CaSki"],
    "esophageal squamous cell carcinoma": ["KYSE150", "KYSE30", "TE-1"],
    "nasopharyngeal carcinoma": ["C666-1", "CNE2", "HONE1"],
    "multiple myeloma": ["RPMI-8226", "U266", "MM.1S"],
}
CONDITIONS = ["hypoxic", "normoxic", "cisplatin-resistant", "highly metastatic", "irradiated", "serum-starved",
              "EGF-stimulated", "gemcitabine-resistant", "TGF-β-treated", "senescent"]
RECIPIENTS = ["CD8+ T cells", "regulatory T cells", "NK cells", "macrophages", "dendritic cells", "fibroblasts",
              "endothelial cells", "hepatic stellate cells", "myeloid-derived suppressor cells", "osteoclasts",
              "astrocytes", "adipocytes", "neutrophils", "mesothelial cells", "B cells", "pericytes",
              "Kupffer cells", "lung epithelial cells", "mesenchymal stem cells", "Schwann cells"]
PATHWAYS = ["PI3K-AKT", "MAPK/ERK", "Wnt/β-catenin", "NF-κB", "STAT3", "JAK-STAT", "Hippo-YAP", "Notch",
            "TGF-β/SMAD", "mTOR", "HIF-1α", "Hedgehog", "cGAS-STING", "AMPK", "RhoA/ROCK"]
CARGO = ["miR-21", "miR-210", "miR-10b", "miR-155", "miR-122", "miR-1246", "miR-23a", "miR-9", "miR-200c",
         "miR-105", "miR-25-3p", "miR-92a", "miR-1273f", "miR-146a", "miR-27a", "lncRNA H19", "lncRNA MALAT1",
         "lncRNA HOTAIR", "circRNA circPTK2", "PD-L1", "TGF-β1", "EGFRvIII", "MET", "Wnt5a", "HSP70",
         "annexin A2", "integrin β4", "integrin αvβ5", "PKM2", "GLUT1", "survivin", "FasL", "IL-6",
         "mutant KRAS DNA", "CD73", "HMGB1", "galectin-9", "VEGF-A", "MMP-9", "ADAM10", "tissue factor"]
COMMON_TARGETS = ["PTEN", "PDCD4", "TP53", "CDKN1A", "E-cadherin", "VEGFR2", "SMAD4", "BAX", "IRF1", "GSK3B",
                  "TET1", "SIRT1", "BCL2", "MYC", "CCND1", "HIF1AN"]
# Genes named only in answer passages and their planted hard negatives.
RARE_TARGETS = ["KLF4", "SOCS1", "PTPRD", "RUNX3", "FOXO1", "CADM1", "DKK3", "SFRP2", "TIMP3", "SPRY2", "RECK",
                "BTG2", "LATS2", "CDH13", "ZBTB4", "TXNIP", "ARHGAP24", "RASSF1", "CYLD", "DUSP6", "EPB41L3",
                "PHLPP2", "RHOB", "TFPI2", "NDRG2", "CMTM3", "SOX17", "GATA3", "HOXA10", "PRDM1", "ING4",
                "CHD5", "DLC1", "FBXW7", "KEAP1", "STK11", "NF2", "SMARCA4", "ARID1A", "PTPN12", "DAB2IP",
                "SPINT2", "WIF1", "SFRP1", "IGFBP7", "HIC1", "PCDH10", "TCF21", "LRIG1", "PDLIM2", "TUSC2",
                "CDKN2B", "PLK2", "EPHA7", "UCHL1", "GPX3", "MAL2", "ITIH5", "CPEB1", "FHIT", "WWOX",
                "RBM5", "SEMA3B", "SASH1", "MTUS1", "PRKCDBP", "CCDC68", "ZNF331", "TRIM58", "BNIP3L"]
EFFECTS = [("promoted proliferation", "proliferation"), ("enhanced migration and invasion", "invasion"),
           ("induced epithelial-mesenchymal transition", "epithelial-mesenchymal transition"),
           ("increased tube formation", "angiogenesis"), ("suppressed cytotoxic activity", "cytotoxicity"),
           ("shifted polarization toward an M2 phenotype", "M2 polarization"),
           ("raised glycolytic flux", "glycolysis"), ("conferred resistance to cisplatin", "cisplatin resistance"),
           ("impaired antigen presentation", "antigen presentation"), ("triggered secretion of IL-6 and IL-8", "cytokine release"),
           ("accelerated lipid droplet accumulation", "lipid storage"), ("inhibited apoptosis", "apoptosis resistance"),
           ("increased vascular permeability", "vascular leakiness"), ("activated a senescence-associated secretory phenotype", "senescence"),
           ("enhanced stemness marker expression", "stemness")]
READOUTS = ["IL-10 secretion", "VEGF-A release", "lactate production", "colony formation", "transwell invasion",
            "PD-1 expression", "Ki-67 positivity", "MMP-2 activity", "ALDH activity", "IFN-γ suppression",
            "spheroid growth", "ROS levels"]
INHIBITORS = ["GW4869", "Rab27a knockdown", "dimethyl amiloride", "manumycin A", "heparin", "anti-CD63 antibody",
              "nSMase2 silencing", "calpeptin"]
HALLMARKS = ["Sustained proliferative signaling", "Invasion and metastasis", "Immune evasion", "Angiogenesis",
             "Metabolic reprogramming", "Genome instability", "Tumor-promoting inflammation", "Resisting cell death",
             "Hypoxia and exosome biogenesis", "Drug resistance", "Phenotypic plasticity", "Senescent cells"]
SURNAMES = ["Li", "Wang", "Zhang", "Chen", "Liu", "Smith", "Müller", "Garcia", "Kim", "Tanaka", "Rossi", "Kowalski",
            "Nguyen", "Silva", "Patel", "Johansson", "Dubois", "Cohen", "Ivanova", "Okafor", "Hughes", "Novak",
            "Yamamoto", "Fernandez", "Schmidt", "Park", "Singh", "Andersen", "Moreau", "Costa"]
JOURNALS = ["Mol Cancer", "Cancer Res", "Nat Commun", "J Extracell Vesicles", "Oncogene", "Cell Rep",
            "Clin Cancer Res", "Theranostics", "J Hematol Oncol", "Cancer Lett", "EMBO J", "Sci Adv"]

INTRO = [
    "Exosomes are extracellular vesicles of 30-150 nm that carry proteins, lipids and nucleic acids between cells{c}.",
    "{hallmark} is a defining feature of {cancer}, and tumor-derived exosomes contribute to it by transferring {cargo} to {recipient}{c}.",
    "Previous studies linked exosomal {cargo} to poor prognosis in {cancer}{c}.",
    "How exosomes from {cancer} cells reprogram {recipient} in the tumor microenvironment remains poorly understood{c}.",
    "Hypoxia, a common feature of solid tumors, increases exosome release and alters vesicle cargo{c}.",
    "Several groups reported that {pathway} signaling in {recipient} responds to tumor-derived vesicles{c}.",
]
METHODS = [
    "Exosomes were isolated from conditioned medium of {cell} cells by differential ultracentrifugation at 100,000 × g for 70 min.",
    "Vesicle size and concentration were measured by nanoparticle tracking analysis, and the markers CD9, CD63 and TSG101 were confirmed by immunoblotting.",
    "{recipient} were incubated with PKH67-labelled exosomes at 10 µg/mL for 24 h before analysis.",
    "Gene expression was quantified by RT-qPCR and normalised to GAPDH, and each experiment was repeated three times.",
    "Exosome release was blocked with {inhibitor}, and conditioned medium was collected after 48 h.",
    "Luciferase reporters carrying the wild-type or mutated 3′ UTR of {target} were transfected into {recipient}.",
    "Female BALB/c nude mice received {cell} xenografts and were treated with exosomes every third day.",
]
RESULTS = [
    "Exosomes released by {cell} cells were enriched in {cargo} compared with those from non-malignant epithelial cells{c}.",
    "Uptake of {cancer} exosomes by {recipient} activated {pathway} signaling and {effect}{c}.",
    "Knockdown of {cargo} in donor {cell} cells abolished the ability of their exosomes to alter {recipient}{c}.",
    "In xenograft models, injection of {cell}-derived exosomes increased tumor volume by {pct}% over 21 days{c}.",
    "Circulating exosomal {cargo} was higher in patients with advanced {cancer} than in healthy donors, with an AUC of 0.{auc}{c}.",
    "Blocking exosome secretion with {inhibitor} reduced {effect_noun} by {pct}% in co-culture{c}.",
    "Hypoxia at 1% O2 increased exosome release from {cell} cells {fold}-fold and changed their cargo{c}.",
    "Exosomal {cargo} targeted {target} in {recipient}, relieving repression of {pathway} signaling{c}.",
    "These effects were reversed by {inhibitor}, indicating that exosome release was required{c}.",
    "{recipient} exposed to {cell} exosomes showed a {fold}-fold rise in {readout} within 48 h{c}.",
    "Proteomic profiling identified {cargo} among the most abundant proteins in {cancer} exosomes{c}.",
]
DISCUSSION = [
    "Our findings suggest that exosomal {cargo} could serve as a biomarker for {cancer}{c}.",
    "Targeting exosome biogenesis, for example with {inhibitor}, may therefore limit {effect_noun} in {cancer}{c}.",
    "Whether {recipient} in patients respond to exosomal {cargo} as they do in culture remains to be shown.",
    "Together with earlier reports, these data place exosomes upstream of {pathway} activation in {recipient}{c}.",
    "A limitation of this study is that exosome doses in culture may exceed those reached in vivo.",
]
REVIEW = [
    "Exosomal {cargo} from {cancer} cells {effect} in {recipient} through {pathway} signaling{c}.",
    "In {cancer}, tumor exosomes carrying {cargo} act on {recipient} and promote {effect_noun}{c}.",
    "Several studies describe how {cell} exosomes reprogram {recipient}, most often through {pathway}{c}.",
    "Blocking exosome release with {inhibitor} reduced {effect_noun} in models of {cancer}{c}.",
]
NEEDLE = [
    ("Exosomes from {condition} {cell} {cancer} cells delivered {mir}, which bound the 3′ UTR of {gene} in {recipient} "
     "and {effect} through {pathway} signaling, raising {readout} {fold}-fold{c}."),
    ("{cell} cells under {condition} conditions packaged {mir} into exosomes; in {recipient} it silenced {gene}, "
     "activated {pathway} signaling and {effect}{c}."),
    ("We found that {mir}, carried by exosomes of {condition} {cell} cells, repressed {gene} in {recipient}, "
     "which {effect} and increased {readout} {fold}-fold{c}."),
]
SAME_GENE = "{gene} was also silenced by exosomal {mir} in {recipient} exposed to {cell} exosomes, although {readout} did not change{c}."
SAME_CELL = "In {cell} cells, exosomal {mir} suppressed {gene} and {effect} in {recipient}{c}."
SAME_MIR = "Serum levels of exosomal {mir} did not differ between patients with {cancer} and healthy controls{c}."
QUESTIONS = [
    "What does exosomal {mir} do in {recipient}?",
    "Which microRNA do exosomes from {cell} cells use to silence {gene} in {recipient}?",
    "How do {condition} {cell} exosomes change {recipient} through {gene}?",
]


@dataclass
class Needle:
    """A query and the passage that answers it."""

    id: str
    question: str
    answer_text: str
    mir: str
    gene: str
    cell: str


@dataclass
class Paper:
    number: int
    file: str
    title: str
    citation: str
    sections: list[tuple[str, int]]  # (heading, paragraph count); one untitled paragraph for an abstract
    topic: dict[str, str]  # the cancer, cell line, cargo, recipient cells... most of its sentences are about


@dataclass
class BenchCorpus:
    """A generated corpus folder and its queries."""

    folder: Path
    chunks: int
    papers: int
    queries: list[Needle]

    @property
    def corpus(self) -> Path:
        return self.folder / "corpus"


def load_queries(folder: Path) -> list[Needle]:
    lines = (folder / QUERIES).read_text(encoding="utf-8").splitlines()
    return [Needle(**json.loads(line)) for line in lines if line.strip()]


def generate_corpus(folder: Path, chunks: int, seed: int = 0, queries: int = MIN_NEEDLES) -> BenchCorpus:
    """Write (or reuse, when already written with the same parameters) a corpus of ``chunks`` chunks.

    ``folder/corpus`` is the corpus in DESIGN.md's layout and ``folder/queries.jsonl`` the queries,
    each with the text of its answer passage. At least 200 answer passages are planted (fewer only
    when the corpus is too small), so that the text does not change with ``queries``.
    """
    if chunks < 8:
        raise ValueError(f"--scales: {chunks} chunks is too small a corpus (at least 8)")
    if not 1 <= queries <= min(MAX_QUERIES, chunks // 4):
        raise ValueError(f"--queries: {queries} must be between 1 and {min(MAX_QUERIES, chunks // 4)} "
                         f"(a quarter of the smallest scale, {chunks} chunks)")
    needle_count = min(max(queries, MIN_NEEDLES), chunks // 4)
    wanted = {"version": GENERATOR_VERSION, "seed": seed, "chunks": chunks, "needles": needle_count}
    manifest_path = folder / MANIFEST
    if manifest_path.exists() and (folder / QUERIES).exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if {key: manifest.get(key) for key in wanted} == wanted:
            return BenchCorpus(folder, chunks, manifest["papers"], load_queries(folder)[:queries])
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "corpus" / "review").mkdir(parents=True)
    (folder / "corpus" / "literature").mkdir(parents=True)
    writer = _Writer(seed, chunks, needle_count)
    needles = writer.write(folder / "corpus")
    with (folder / QUERIES).open("w", encoding="utf-8") as out:
        for needle in needles:
            out.write(json.dumps(asdict(needle)) + "\n")
    manifest_path.write_text(json.dumps({**wanted, "papers": len(writer.papers)}), encoding="utf-8")
    return BenchCorpus(folder, chunks, len(writer.papers), needles[:queries])


class _Writer:
    """Plans papers, places the answer passages and writes the files.

    Every paper, paragraph and answer passage draws from its own seeded random stream, so corpora
    of different sizes share their papers (paper 7 reads the same at 1,000 and 100,000 chunks) and
    the answer passages and queries are the same at every scale; only where they are planted
    differs. Cached embeddings of one scale therefore serve most of another.
    """

    def __init__(self, seed: int, chunks: int, needle_count: int):
        self.seed = seed
        self.chunks = chunks
        self.rng = random.Random(f"{seed}:plan")
        self.cite_up_to = 3
        self.paper_topic: dict[str, str] = {}
        self.review_paragraphs = min(max(3, chunks // 100), 400)
        self.papers = self._plan_papers(chunks - self.review_paragraphs)
        self.needle_count = needle_count

    def _stream(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def _plan_papers(self, paragraphs: int) -> list[Paper]:
        papers: list[Paper] = []
        left = paragraphs
        while left > 0:
            number = len(papers) + 1
            self.rng = rng = self._stream("paper", number)
            if rng.random() < 0.3:
                sections = [("", 1)]
            else:
                sections = [("Abstract", 1), ("Introduction", rng.randint(1, 3)), ("Methods", rng.randint(1, 2)),
                            ("Results", rng.randint(2, 8)), ("Discussion", rng.randint(1, 3))]
            trimmed = []
            for heading, count in sections:
                count = min(count, left)
                if count:
                    trimmed.append((heading, count))
                    left -= count
            author = rng.choice(SURNAMES)
            year = rng.randint(2008, 2025)
            slug = re.sub(r"[^a-z]", "", author.lower().replace("ü", "u"))
            topic = {key: value for key, value in self.topic().items()
                     if key in ("cancer", "cell", "cargo", "recipient", "pathway", "effect", "effect_noun")}
            title = f"Exosomal {topic['cargo']} from {topic['cell']} {topic['cancer']} cells {topic['effect']} in {topic['recipient']}"
            citation = f"{author} {rng.choice('ABCDEFGHJKLMNPRSTW')}, et al. {rng.choice(JOURNALS)} {year}"
            papers.append(Paper(number, f"literature/{number:05d}-{slug}{year}.md", title, citation, trimmed, topic))
        return papers

    # --- text ------------------------------------------------------------------------------------

    def citation(self) -> str:
        """A bracket of reference numbers in one of the review's styles, or nothing.

        Papers cite papers numbered before them (the review cites them all), so a paper's text
        does not depend on how many papers follow it.
        """
        rng, top = self.rng, max(self.cite_up_to, 3)
        roll = rng.random()
        if roll < 0.35:
            return ""
        a = rng.randint(1, max(top - 3, 1))
        if roll < 0.6:
            return f" [{a}]"
        if roll < 0.75:
            return f" [{a}, {rng.randint(1, top)}]"
        if roll < 0.9:
            return f" [{a}-{min(a + rng.randint(2, 3), top)}]"
        return f" [{a}-{min(a + 3, top)}, {rng.randint(1, top)}]"

    def topic(self) -> dict[str, str]:
        """Random values for every slot of a template."""
        rng = self.rng
        cancer = rng.choice(list(CANCERS))
        effect, effect_noun = rng.choice(EFFECTS)
        return {
            "cancer": cancer, "cell": rng.choice(CANCERS[cancer]), "cargo": rng.choice(CARGO),
            "recipient": rng.choice(RECIPIENTS), "pathway": rng.choice(PATHWAYS), "effect": effect,
            "effect_noun": effect_noun, "target": rng.choice(COMMON_TARGETS), "inhibitor": rng.choice(INHIBITORS),
            "readout": rng.choice(READOUTS), "hallmark": rng.choice(HALLMARKS), "pct": str(rng.randint(18, 74)),
            "fold": f"{rng.randint(15, 58) / 10:.1f}", "auc": str(rng.randint(71, 94)), "condition": rng.choice(CONDITIONS),
        }

    def fill(self, template: str, **fixed: str) -> str:
        values = self.topic()
        # Most sentences of a paper keep to its topic; the rest discuss other work.
        if self.paper_topic and self.rng.random() < 0.7:
            values.update(self.paper_topic)
        values["c"] = self.citation()
        values.update(fixed)
        text = template.format(**values)
        return text[0].upper() + text[1:]

    def paragraph(self, templates: list[str], must: str = "") -> str:
        """45-118 words of sentences from ``templates``; ``must`` (a planted sentence) goes in whole."""
        target = self.rng.randint(60, 110)
        sentences = [must] if must else []
        words = len(must.split())
        for template in self.rng.sample(templates, len(templates)):  # no template twice in a paragraph
            if words >= target:
                break
            sentence = self.fill(template)
            if words + len(sentence.split()) > MAX_PARAGRAPH_WORDS:
                continue
            sentences.append(sentence)
            words += len(sentence.split())
        if must and len(sentences) > 1:
            # The planted sentence sits anywhere in its paragraph, not always first.
            sentences.insert(self.rng.randint(0, len(sentences) - 1), sentences.pop(0))
        if words < 45:
            sentences.append(self.fill("Exosomes were characterized by nanoparticle tracking analysis and immunoblotting for CD63, CD81 and TSG101."))
        return " ".join(sentences)

    # --- answer passages -------------------------------------------------------------------------

    def needles(self) -> list[tuple[Needle, list[str]]]:
        """Answer sentences with their queries, and the hard negatives planted for each."""
        self.rng = rng = self._stream("needles", self.needle_count)
        self.cite_up_to = 100
        mirs = rng.sample(range(3000, 5000), self.needle_count)
        other_mirs = iter(rng.sample(range(5000, 7000), 2 * self.needle_count))
        pairs: list[tuple[str, str, str]] = []
        while len(pairs) < self.needle_count:
            cancer = rng.choice(list(CANCERS))
            pair = (cancer, rng.choice(CANCERS[cancer]), rng.choice(RARE_TARGETS))
            if pair not in pairs:
                pairs.append(pair)
        paired = {(cell, gene) for _, cell, gene in pairs}
        planted: list[tuple[Needle, list[str]]] = []
        for index, (number, (cancer, cell, gene)) in enumerate(zip(mirs, pairs)):
            mir = f"miR-{number}{rng.choice(['', 'a', 'b'])}-{rng.choice(['3p', '5p'])}"
            fixed = {"mir": mir, "gene": gene, "cell": cell, "cancer": cancer, "condition": rng.choice(CONDITIONS),
                     "recipient": rng.choice(RECIPIENTS)}
            answer = self.fill(rng.choice(NEEDLE), **fixed)
            question = QUESTIONS[index % len(QUESTIONS)].format(**fixed)
            other_cancer = rng.choice([c for c in CANCERS if c != cancer])
            negatives = [
                self.fill(SAME_GENE, gene=gene, mir=f"miR-{next(other_mirs)}-5p", cell=rng.choice(CANCERS[other_cancer])),
                self.fill(SAME_CELL, cell=cell, mir=f"miR-{next(other_mirs)}-3p",
                          gene=rng.choice([g for g in RARE_TARGETS if (cell, g) not in paired])),
                self.fill(SAME_MIR, mir=mir, cancer=other_cancer),
            ]
            planted.append((Needle(f"q{index + 1:03d}", question, answer, mir, gene, cell), negatives))
        return planted

    # --- files -----------------------------------------------------------------------------------

    def write(self, corpus: Path) -> list[Needle]:
        slots = [(paper_index, section_index, p)
                 for paper_index, paper in enumerate(self.papers)
                 for section_index, (_, count) in enumerate(paper.sections)
                 for p in range(count)]
        answer_slots = [s for s in slots if self.papers[s[0]].sections[s[1]][0] in ("", "Abstract", "Results")]
        planted = self.needles()
        placing = self._stream("slots", self.chunks)
        chosen = placing.sample(answer_slots, len(planted))
        taken = set(chosen)
        rest = [s for s in slots if s not in taken]
        negative_slots = placing.sample(rest, min(len(rest), 3 * len(planted)))
        planted_at: dict[tuple[int, int, int], str] = {slot: needle.answer_text for slot, (needle, _) in zip(chosen, planted)}
        negatives = [sentence for _, sentences in planted for sentence in sentences]
        planted_at.update(zip(negative_slots, negatives))

        kinds = {"": RESULTS + INTRO, "Abstract": INTRO[:2] + RESULTS, "Introduction": INTRO, "Methods": METHODS,
                 "Results": RESULTS, "Discussion": DISCUSSION}
        with (corpus / "references.jsonl").open("w", encoding="utf-8") as references:
            for paper_index, paper in enumerate(self.papers):
                self.paper_topic = paper.topic
                self.cite_up_to = paper.number - 1
                lines = [f"# {paper.title}", ""]
                for section_index, (heading, count) in enumerate(paper.sections):
                    if heading:
                        lines += [f"## {heading}", ""]
                    for p in range(count):
                        self.rng = self._stream("paragraph", paper.number, section_index, p)
                        must = planted_at.get((paper_index, section_index, p), "")
                        lines += [self.paragraph(kinds[heading], must), ""]
                (corpus / paper.file).write_text("\n".join(lines), encoding="utf-8")
                references.write(json.dumps({"number": paper.number, "citation": paper.citation,
                                             "doi": f"10.5555/exorag-bench.{paper.number}", "file": paper.file}) + "\n")
        self.paper_topic = {}
        self.cite_up_to = len(self.papers)
        self._write_review(corpus / "review" / "review.md")
        return [needle for needle, _ in planted]

    def _write_review(self, path: Path) -> None:
        lines = ["# Tumor exosomes and the hallmarks of cancer: a generated review", ""]
        per_section = -(-self.review_paragraphs // len(HALLMARKS))
        written = 0
        for hallmark in HALLMARKS:
            if written >= self.review_paragraphs:
                break
            lines += [f"## {hallmark}", ""]
            for _ in range(min(per_section, self.review_paragraphs - written)):
                self.rng = self._stream("review", written)
                lines += [self.paragraph(REVIEW), ""]
                written += 1
        path.write_text("\n".join(lines), encoding="utf-8")
