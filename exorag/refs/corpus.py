"""The corpus layout as the refs commands see it: review documents, literature files named by
reference number, and the folder where fetch keeps its state."""

from __future__ import annotations

import re
from pathlib import Path

REVIEW_DIR = "review"
LITERATURE_DIR = "literature"
# Hidden, so that ingest never mistakes fetch's bookkeeping for a source.
STATE_DIR = ".exorag"

# A file name's reference number has at most five digits: a longer leading number is a date or an id.
_LEADING_NUMBER = re.compile(r"^0*(\d{1,5})(?!\d)")


def review_files(corpus_dir: Path) -> list[Path]:
    """The review document(s): every visible file under ``corpus/review/`` but READMEs, sorted."""
    folder = corpus_dir / REVIEW_DIR
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not is_hidden(path, folder) and not path.name.lower().startswith("readme")
    )


def reference_number_of(file_name: str) -> int | None:
    """The reference number a literature file is named by: ``170_poggio2019.pdf`` -> 170,
    ``0058-li2020.txt`` -> 58, ``notes.txt`` -> None."""
    match = _LEADING_NUMBER.match(file_name)
    # Reference lists start at 1: "000_notes.txt" names no reference.
    return (int(match.group(1)) or None) if match else None


def literature_files(corpus_dir: Path) -> dict[int, list[Path]]:
    """Literature files by the reference number their name starts with."""
    folder = corpus_dir / LITERATURE_DIR
    files: dict[int, list[Path]] = {}
    if not folder.is_dir():
        return files
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or is_hidden(path, folder):
            continue
        number = reference_number_of(path.name)
        if number is not None:
            files.setdefault(number, []).append(path)
    return files


def shown_path(relative: str) -> str:
    """A path as it can be printed and written to JSON: the bytes of a name that is not UTF-8 (from
    an archive made on another system, "caf\\xe9.txt") as escapes."""
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def relative_to_corpus(path: Path, corpus_dir: Path) -> str:
    """``literature/170_poggio2019.pdf``: the form references.jsonl stores."""
    try:
        return path.relative_to(corpus_dir).as_posix()
    except ValueError:
        return path.as_posix()


def is_hidden(path: Path, root: Path) -> bool:
    """Whether ``path`` or a folder on its way from ``root`` is hidden (``._paper.pdf``, ``.exorag/``)."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def has_pdf_header(path: Path) -> bool:
    """Whether ``path`` begins as a PDF does (``%PDF-`` within its first kilobyte), and not as the
    web page a publisher or a proxy's sign-in sends under a .pdf link."""
    with path.open("rb") as handle:
        return b"%PDF-" in handle.read(1024)


def outside_corpus(path: Path, corpus: Path) -> bool:
    """Whether ``path`` resolves (through any link on the way) to somewhere outside ``corpus``; a
    link that loops resolves nowhere and is kept, so that loading it reports it."""
    try:
        return not path.resolve().is_relative_to(corpus.resolve())
    except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError for a symlink loop
        return False
