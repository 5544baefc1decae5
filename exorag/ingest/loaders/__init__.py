"""One module per format; ``load_document`` picks the loader by file extension."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from exorag.ingest.loaders import html, markdown, pdf, text
from exorag.ingest.loaders.base import Block, LoadedDocument, LoadError

_LOADERS: tuple[ModuleType, ...] = (text, pdf, markdown, html)


def supported_extensions() -> set[str]:
    return {extension for loader in _LOADERS for extension in loader.EXTENSIONS}


def load_document(path: Path, max_bytes: int | None = None) -> LoadedDocument:
    """Load ``path`` with the loader for its extension; LoadError says what is wrong."""
    extension = path.suffix.lower()
    loader = next((candidate for candidate in _LOADERS if extension in candidate.EXTENSIONS), None)
    if loader is None:
        raise LoadError(f"unsupported file type {extension or '(none)'}")
    try:
        size = path.stat().st_size
    except OSError as error:
        raise LoadError(f"cannot read: {error.strerror}") from error
    if size == 0:
        raise LoadError("empty file (0 bytes)")
    if max_bytes is not None and size > max_bytes:
        raise LoadError(f"too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:g} MB: "
                        f"set EXORAG_MAX_FILE_MB to a larger number of MB to ingest it)")
    try:
        return loader.load(path)
    except LoadError:
        raise
    except PermissionError as error:
        raise LoadError("cannot read: permission denied") from error
    except OSError as error:
        raise LoadError(f"cannot read: {error.strerror or error}") from error


__all__ = ["Block", "LoadError", "LoadedDocument", "load_document", "supported_extensions"]
