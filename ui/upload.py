"""Adding a cited paper from the browser: check the PDF, save it as
``corpus/literature/<number>_<name>.pdf``, index it, and make the next answer see it.

A file that does not load is refused before anything is written, so a bad upload leaves the corpus
and the index as they were.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from exorag.chain import reset_pipelines
from exorag.citations import MAX_REFERENCE_NUMBER
from exorag.config import Settings
from exorag.ingest.loaders import LoadError, load_document
from exorag.ingest.sync import IngestLocked, Progress, sync_corpus
from exorag.refs.corpus import LITERATURE_DIR, literature_files, relative_to_corpus
from exorag.store.chroma import StoreUnavailable


class PaperRejected(ValueError):
    """The upload cannot be added; the message says why, and nothing was changed."""


@dataclass
class AddedPaper:
    """What adding a paper did."""

    path: str
    number: int
    pages: int
    chunks_added: int
    other_failures: list[dict[str, str]] = field(default_factory=list)


def target_name(number: int, original_name: str) -> str:
    """``170_poggio-2019.pdf`` from reference 170 and ``Poggio 2019 (Cell).pdf``."""
    stem = Path(original_name).stem.lower()
    stem = re.sub(r"^[\d\s_.-]+", "", stem)  # the number is ours; drop one the file name already had
    slug = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:60].rstrip("-") or "paper"
    return f"{number}_{slug}.pdf"


def check_number(value: float | None) -> int:
    """The reference number as an integer, or PaperRejected saying what is wrong with it."""
    if value is None or value == "":
        raise PaperRejected("Give the paper's reference number in the review (for example 170).")
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    # NaN and infinity (JSON through the API) are no whole number either, and int() refuses them.
    if not math.isfinite(number) or number != int(number) or not 1 <= number <= MAX_REFERENCE_NUMBER:
        raise PaperRejected(f"Reference number: {value!r} is not a whole number from 1 to {MAX_REFERENCE_NUMBER}.")
    return int(number)


def add_paper(settings: Settings, upload: Path, number: int, original_name: str | None = None,
              progress: Progress | None = None) -> AddedPaper:
    """Check ``upload`` (a PDF), save it under the corpus as reference ``number`` and index it.

    Raises PaperRejected, with nothing saved, when the file is not a readable PDF with text, when
    the reference already has a PDF, or when another ingest holds the index.
    """
    original_name = original_name or upload.name
    if Path(original_name).suffix.lower() != ".pdf":
        raise PaperRejected(f"{original_name}: not a PDF (the file name must end in .pdf).")
    name = target_name(number, original_name)
    folder = settings.corpus / LITERATURE_DIR
    relative = f"{LITERATURE_DIR}/{name}"
    # As ingest finds them: in subfolders too, and with any case of ".pdf".
    existing = [p for p in literature_files(settings.corpus).get(number, []) if p.suffix.lower() == ".pdf"]
    if existing:
        raise PaperRejected(
            f"Reference {number} already has a PDF: {relative_to_corpus(existing[0], settings.corpus)}. "
            "Remove it from the corpus folder first to replace it."
        )
    pages = _validated_pages(upload, name, settings)

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    # Written under a hidden name first, so a concurrent ingest never reads half a file.
    staging = folder / f".{name}.part"
    shutil.copyfile(upload, staging)
    os.replace(staging, target)
    try:
        report = sync_corpus(settings, progress)
    except IngestLocked as error:
        target.unlink(missing_ok=True)
        raise PaperRejected(f"{error}. The paper was not added.") from error
    except StoreUnavailable as error:  # a full disk halfway through: the passages written so far go too
        target.unlink(missing_ok=True)
        try:
            sync_corpus(settings)
            left = ""
        except (StoreUnavailable, IngestLocked):
            left = " Some of its passages may remain in the index until the next `exorag ingest`."
        reset_pipelines()
        raise PaperRejected(f"{relative}: the index could not be written ({error}). The paper was not added; "
                            f"free space and add it again.{left}") from error
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    mine = [f for f in report.failed if f["path"] == relative]
    if mine:
        target.unlink(missing_ok=True)
        raise PaperRejected(f"{relative}: {mine[0]['error']}. The paper was not added.")
    reset_pipelines()
    others = [f for f in report.failed if f["path"] != relative]
    return AddedPaper(path=relative, number=number, pages=pages, chunks_added=report.added, other_failures=others)


def _validated_pages(upload: Path, name: str, settings: Settings) -> int:
    """Load a temporary copy of the upload as ingest will; the number of pages it has text on."""
    with tempfile.TemporaryDirectory(prefix="exorag-upload-") as folder:
        copy = Path(folder) / name
        shutil.copyfile(upload, copy)
        try:
            document = load_document(copy, max_bytes=int(settings.max_file_mb * 1e6))
        except LoadError as error:
            raise PaperRejected(f"{name}: {error}. Nothing was saved.") from error
    if not document.text.strip():
        raise PaperRejected(f"{name}: no text could be read from this PDF. Nothing was saved.")
    return len({block.page for block in document.blocks if block.page is not None})
