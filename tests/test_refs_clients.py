"""Pieces of the literature fetch that stand on their own: JATS to text, Retry-After, file names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from exorag.refs.clients.http import retry_after_seconds, user_agent
from exorag.refs.fetch import author_from_citation, file_stem, parse_numbers, year_from_citation
from exorag.refs.jats import JatsError, jats_to_text

ARTICLE = """<?xml version="1.0"?>
<article xmlns:xlink="http://www.w3.org/1999/xlink"><front><article-meta>
<title-group><article-title>Exosomal <italic>PD-L1</italic> and T cells</article-title></title-group>
<abstract abstract-type="graphical"><p>Graphical abstract text.</p></abstract>
<abstract><sec><title>Background</title><p>Tumour exosomes carry PD-L1.</p></sec></abstract>
</article-meta></front>
<body>
<sec><title>Introduction</title>
<p>PD-L1 binds PD-1 [<xref ref-type="bibr" rid="B1">1</xref>&#x02013;<xref ref-type="bibr" rid="B3">3</xref>].</p>
<sec><title>Exosome release</title><p>Release rises under hypoxia (<xref ref-type="bibr" rid="B4">4</xref>), see <xref ref-type="fig" rid="F1">Figure 1</xref>.</p></sec>
</sec>
<fig id="F1"><label>Figure 1</label><caption><p>Exosomes under hypoxia.</p></caption><graphic xlink:href="f1.jpg"/></fig>
<table-wrap><label>Table 1</label><caption><p>Markers.</p></caption><table><tr><td>CD63</td></tr></table></table-wrap>
</body>
<back><ref-list><ref id="B1"><mixed-citation>Other A. Cited paper. 2001.</mixed-citation></ref></ref-list></back>
</article>"""


def test_jats_becomes_text_with_sections_captions_and_no_citation_markers() -> None:
    text = jats_to_text(ARTICLE)

    assert text.split("\n\n") == [
        "Exosomal PD-L1 and T cells",
        "Abstract",
        "Background",
        "Tumour exosomes carry PD-L1.",
        "Introduction",
        "PD-L1 binds PD-1.",
        "Exosome release",
        "Release rises under hypoxia, see Figure 1.",
        "Figure 1",
        "Exosomes under hypoxia.",
        "Table 1",
        "Markers.\n",
    ]


def test_jats_without_text_is_refused() -> None:
    with pytest.raises(JatsError):
        jats_to_text("<article><front/></article>")
    with pytest.raises(JatsError):
        jats_to_text("<html><body>Not found</body>")


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert retry_after_seconds("7") == 7.0
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= retry_after_seconds(format_datetime(later, usegmt=True)) <= 31
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_user_agent_names_exorag_and_the_contact() -> None:
    assert user_agent("lab@example.org").startswith("exorag/") and "mailto:lab@example.org" in user_agent(
        "lab@example.org"
    )
    assert "mailto" not in user_agent(None)


@pytest.mark.parametrize(
    ("citation", "stem"),
    [
        ("Poggio M, Hu T, Pai CC, et al. Suppression of exosomal PD-L1. Cell. 2019;177:414-27.", "170_poggio2019"),
        ("van der Pol E, Boing AN. Classification of vesicles. Pharmacol Rev. 2012.", "170_vanderpol2012"),
        ("Müller J. K. Exosomes. doi:10.5555/x.2020.1 Published 2018.", "170_muller2018"),
        ("World Health Organization. Cancer report.", "170_worldhealthorganization"),
    ],
)
def test_file_names_take_first_author_and_year_from_the_citation(citation: str, stem: str) -> None:
    assert file_stem(170, author_from_citation(citation), year_from_citation(citation)) == stem


def test_only_option_takes_the_review_citation_syntax() -> None:
    assert parse_numbers("170-172, 58") == {58, 170, 171, 172}
    with pytest.raises(ValueError, match="not a list of reference numbers"):
        parse_numbers("Figure 5")
