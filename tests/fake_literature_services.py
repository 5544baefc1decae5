"""A local stand-in for Europe PMC, Unpaywall and NCBI E-utilities, for fetch tests.

One threading HTTP server on 127.0.0.1 answers, for the papers a test defines, the requests
exorag makes of the real services:

    {base}/europepmc/search?query=DOI:"..."&format=json&resultType=core    (also EXT_ID, PMCID, TITLE)
    {base}/europepmc/{PMCID}/fullTextXML
    {base}/unpaywall/v2/{doi}?email=...
    {base}/eutils/esearch.fcgi | esummary.fcgi | efetch.fcgi
    {base}/pdf/{name}.pdf                    (the open-access PDFs, with HTTP Range support)

Faults make it answer like a service under load: ``fail(match, status, times, headers)`` answers
``status`` to the next ``times`` requests whose path and query contain ``match``;
``cut_short(match)`` sends half of the next matching PDF and closes the connection. Every request
is logged with its arrival time, so tests can check pacing, retries and resumes.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from exorag.refs.settings import LiteratureSettings


@dataclass
class FakePaper:
    """A paper the fake services know. ``pdf`` is served through Unpaywall's best location,
    ``paragraphs`` as Europe PMC open-access full text (when it has a PMCID)."""

    title: str
    first_author: str
    year: str
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    journal: str = "Journal of Test Results"
    abstract: str = ""
    paragraphs: list[str] = field(default_factory=list)
    pdf: bytes | None = None
    pdf_is_web_page: bool = False  # Unpaywall's PDF link leads to a publisher's HTML page
    pdf_redirect: str | None = None  # Unpaywall's PDF link answers 302 with this Location
    in_europepmc: bool = True


@dataclass
class LoggedRequest:
    at: float
    path: str
    query: dict[str, str]
    headers: dict[str, str]

    @property
    def target(self) -> str:
        return self.path + "?" + "&".join(f"{k}={v}" for k, v in self.query.items())


@dataclass
class _Fault:
    match: str
    status: int
    times: int
    headers: dict[str, str]
    cut_short: bool = False


class FakeLiteratureServices:
    """The fake services; use as a context manager, then point LiteratureSettings at it."""

    def __init__(self, papers: list[FakePaper] | None = None) -> None:
        self.papers: list[FakePaper] = list(papers or [])
        self.requests: list[LoggedRequest] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def settings(self, **overrides: object) -> LiteratureSettings:
        """LiteratureSettings pointed at this server, with quick pacing and retries for tests."""
        values: dict[str, object] = {
            "europepmc_url": f"{self.base_url}/europepmc",
            "unpaywall_url": f"{self.base_url}/unpaywall/v2",
            "ncbi_url": f"{self.base_url}/eutils",
            "contact_email": "lab@example.org",
            "fetch_rate": 200.0,
            "fetch_retries": 3,
            "fetch_backoff": 0.05,
            "fetch_max_wait": 5.0,
            "fetch_timeout": 5.0,
        }
        values.update(overrides)
        return LiteratureSettings(**values)

    def fail(self, match: str, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` to the next ``times`` requests whose path and query contain ``match``."""
        with self._lock:
            self._faults.append(_Fault(match, status, times, headers or {}))

    def cut_short(self, match: str) -> None:
        """Send only half of the next matching response body, then drop the connection."""
        with self._lock:
            self._faults.append(_Fault(match, 200, 1, {}, cut_short=True))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def requests_to(self, text: str) -> list[LoggedRequest]:
        """Logged requests whose path or query mention ``text``."""
        return [request for request in self.requests if text in unquote(request.target)]

    def pdf_url(self, paper: FakePaper) -> str:
        return f"{self.base_url}/pdf/{_slug(paper)}.pdf"

    def _take_fault(self, target: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.match in target:
                    fault.times -= 1
                    return fault
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # headers and body in one write: no 40 ms wait for a delayed ACK
    server: ThreadingHTTPServer

    def log_message(self, *_: object) -> None:  # keep test output quiet
        pass

    @property
    def fake(self) -> FakeLiteratureServices:
        return self.server.fake  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        logged = LoggedRequest(time.monotonic(), unquote(parts.path), query, dict(self.headers.items()))
        with self.fake._lock:
            self.fake.requests.append(logged)
        fault = self.fake._take_fault(unquote(logged.target))
        if fault is not None and not fault.cut_short:
            self._send(
                fault.status,
                json.dumps({"error": True, "message": "fault"}).encode(),
                "application/json",
                fault.headers,
            )
            return
        path = logged.path
        if path.startswith("/europepmc/search"):
            self._json(200, self._europepmc_search(query.get("query", "")))
        elif path.startswith("/europepmc/") and path.endswith("/fullTextXML"):
            paper = self._paper(pmcid=path.split("/")[2])
            if paper is None or not paper.paragraphs or not paper.in_europepmc:
                self._send(404, b"", "text/plain")
            else:
                self._send(200, _jats(paper).encode(), "application/xml")
        elif path.startswith("/unpaywall/v2/"):
            self._unpaywall(path[len("/unpaywall/v2/") :], query.get("email", ""))
        elif path.startswith("/eutils/"):
            self._eutils(path.rsplit("/", 1)[-1], query)
        elif path.startswith("/pdf/"):
            self._pdf(path, cut_short=fault is not None)
        elif path.startswith("/redirect/"):
            paper = next((p for p in self.fake.papers if p.pdf_redirect and path == f"/redirect/{_slug(p)}"), None)
            if paper is None:
                self._send(404, b"", "text/plain")
            else:
                self._send(302, b"", "text/plain", {"Location": paper.pdf_redirect})
        elif path.startswith("/landing/"):
            self._send(200, b"<html><body>Subscribe to read this article.</body></html>", "text/html")
        else:
            self._send(404, b"no such endpoint", "text/plain")

    def _paper(self, **wanted: str) -> FakePaper | None:
        for paper in self.fake.papers:
            if all(str(getattr(paper, key) or "").lower() == value.lower() for key, value in wanted.items()):
                return paper
        return None

    def _europepmc_search(self, query: str) -> dict:
        hits: list[FakePaper] = []
        known = [paper for paper in self.fake.papers if paper.in_europepmc]
        if match := re.fullmatch(r'DOI:"(.+)"', query):
            hits = [p for p in known if p.doi and p.doi.lower() == match.group(1).lower()]
        elif match := re.fullmatch(r"EXT_ID:(\d+) AND SRC:MED", query):
            hits = [p for p in known if p.pmid == match.group(1)]
        elif match := re.fullmatch(r"PMCID:(PMC\d+)", query):
            hits = [p for p in known if p.pmcid == match.group(1)]
        elif match := re.fullmatch(r'TITLE:"(.+)"', query):
            wanted = _letters(match.group(1))
            hits = [p for p in known if wanted in _letters(p.title)]
        return {"hitCount": len(hits), "resultList": {"result": [_europepmc_record(p) for p in hits]}}

    def _unpaywall(self, doi: str, email: str) -> None:
        if "@" not in email:
            self._json(422, {"error": True, "message": "Please provide a valid email address"})
            return
        paper = self._paper(doi=unquote(doi))
        if paper is None:
            self._json(404, {"error": True, "message": f"'{doi}' isn't in Unpaywall"})
            return
        location = None
        if paper.pdf is not None or paper.pdf_is_web_page or paper.pdf_redirect:
            pdf_url = (
                f"{self.fake.base_url}/landing/{_slug(paper)}" if paper.pdf_is_web_page
                else f"{self.fake.base_url}/redirect/{_slug(paper)}" if paper.pdf_redirect else self.fake.pdf_url(paper)
            )
            location = {"url_for_pdf": pdf_url, "url": pdf_url, "host_type": "publisher", "version": "publishedVersion"}
        self._json(
            200,
            {
                "doi": paper.doi,
                "title": paper.title,
                "year": int(paper.year),
                "journal_name": paper.journal,
                "is_oa": location is not None,
                "best_oa_location": location,
                "oa_locations": [location] if location else [],
                "z_authors": [{"family": paper.first_author, "given": "A."}],
            },
        )

    def _eutils(self, endpoint: str, query: dict[str, str]) -> None:
        if endpoint == "esearch.fcgi":
            match = re.fullmatch(r'"(.+)"\[doi\]', query.get("term", ""))
            paper = self._paper(doi=match.group(1)) if match else None
            ids = [paper.pmid] if paper and paper.pmid else []
            self._json(200, {"esearchresult": {"count": str(len(ids)), "idlist": ids}})
        elif endpoint == "esummary.fcgi":
            pmid = query.get("id", "")
            paper = self._paper(pmid=pmid)
            if paper is None:
                self._json(
                    200, {"result": {"uids": [pmid], pmid: {"uid": pmid, "error": "cannot get document summary"}}}
                )
                return
            ids = [{"idtype": "pubmed", "value": pmid}]
            ids += [{"idtype": "doi", "value": paper.doi}] if paper.doi else []
            ids += [{"idtype": "pmc", "value": paper.pmcid}] if paper.pmcid else []
            self._json(
                200,
                {
                    "result": {
                        "uids": [pmid],
                        pmid: {
                            "uid": pmid,
                            "title": paper.title,
                            "pubdate": f"{paper.year} Jan 24",
                            "source": paper.journal,
                            "authors": [{"name": f"{paper.first_author} A"}],
                            "articleids": ids,
                        },
                    }
                },
            )
        elif endpoint == "efetch.fcgi":
            paper = self._paper(pmid=query.get("id", ""))
            if paper is None:
                self._send(200, b"<?xml version='1.0'?><PubmedArticleSet></PubmedArticleSet>", "text/xml")
            else:
                self._send(200, _pubmed_xml(paper).encode(), "text/xml")
        else:
            self._send(404, b"", "text/plain")

    def _pdf(self, path: str, cut_short: bool) -> None:
        paper = next((p for p in self.fake.papers if p.pdf and path == f"/pdf/{_slug(p)}.pdf"), None)
        if paper is None or paper.pdf is None:
            self._send(404, b"", "text/plain")
            return
        data, start = paper.pdf, 0
        if match := re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", "")):
            start = int(match.group(1))
            if start >= len(data):
                self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{len(data)}"})
                return
        body = data[start:]
        status = 206 if start else 200
        headers = {"Accept-Ranges": "bytes"}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        if cut_short:
            self.send_response(status)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(status, body, "application/pdf", headers)

    def _json(self, status: int, data: dict) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def _slug(paper: FakePaper) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (paper.doi or paper.title).lower()).strip("-")


def _letters(text: str) -> str:
    return "".join(character for character in text.casefold() if character.isalnum())


def _europepmc_record(paper: FakePaper) -> dict:
    record: dict = {
        "id": paper.pmid or paper.pmcid or _slug(paper),
        "source": "MED" if paper.pmid else "PMC",
        "title": paper.title,
        "authorString": f"{paper.first_author} A, Second B.",
        "authorList": {
            "author": [{"fullName": f"{paper.first_author} A", "lastName": paper.first_author, "initials": "A"}]
        },
        "pubYear": paper.year,
        "journalInfo": {"journal": {"title": paper.journal}},
        "isOpenAccess": "Y" if paper.paragraphs else "N",
        "inEPMC": "Y" if paper.pmcid else "N",
    }
    for key in ("doi", "pmid", "pmcid"):
        if getattr(paper, key):
            record[key] = getattr(paper, key)
    if paper.abstract:
        record["abstractText"] = f"<h4>Background</h4>{escape(paper.abstract)}"
    return record


def _jats(paper: FakePaper) -> str:
    """A JATS article as Europe PMC serves it, citing its own reference list with <xref>."""
    body = "".join(
        f'<p>{escape(text.rstrip("."))} [<xref ref-type="bibr" rid="R{index}">{index}</xref>].</p>'
        for index, text in enumerate(paper.paragraphs, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article"><front><article-meta>'
        f"<title-group><article-title>{escape(paper.title)}</article-title></title-group>"
        f"<abstract><p>{escape(paper.abstract)}</p></abstract>"
        "</article-meta></front>"
        f"<body><sec><title>Results</title>{body}</sec></body>"
        '<back><ref-list><ref id="R1"><mixed-citation>Someone else. Another paper. 2001.</mixed-citation></ref></ref-list></back>'
        "</article>"
    )


def _pubmed_xml(paper: FakePaper) -> str:
    ids = f'<ArticleId IdType="pubmed">{paper.pmid}</ArticleId>'
    ids += f'<ArticleId IdType="doi">{escape(paper.doi)}</ArticleId>' if paper.doi else ""
    ids += f'<ArticleId IdType="pmc">{paper.pmcid}</ArticleId>' if paper.pmcid else ""
    abstract = (
        f'<Abstract><AbstractText Label="BACKGROUND">{escape(paper.abstract)}</AbstractText></Abstract>'
        if paper.abstract
        else ""
    )
    return (
        "<?xml version='1.0'?><PubmedArticleSet><PubmedArticle><MedlineCitation>"
        f"<PMID>{paper.pmid}</PMID><Article><Journal><JournalIssue><PubDate><Year>{paper.year}</Year></PubDate>"
        f"</JournalIssue><Title>{escape(paper.journal)}</Title></Journal>"
        f"<ArticleTitle>{escape(paper.title)}</ArticleTitle>{abstract}"
        f"<AuthorList><Author><LastName>{escape(paper.first_author)}</LastName><Initials>A</Initials></Author></AuthorList>"
        "</Article></MedlineCitation>"
        f"<PubmedData><ArticleIdList>{ids}</ArticleIdList></PubmedData></PubmedArticle></PubmedArticleSet>"
    )
