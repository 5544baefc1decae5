"""Plain text: the encoding is detected (charset-normalizer), and binary content is refused."""

from __future__ import annotations

from pathlib import Path

from charset_normalizer import from_bytes

from exorag.ingest.loaders.base import LoadedDocument, LoadError
from exorag.ingest.loaders.structure import is_hard_wrapped, plain_text_blocks

EXTENSIONS = (".txt", ".text")


def decode_text(data: bytes) -> str:
    """Text of ``data`` in its detected encoding; LoadError for binary content."""
    if not data.strip():
        raise LoadError("empty file")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("binary content, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _mostly_utf8(data) or _decode_detected(data)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _mostly_utf8(data: bytes) -> str | None:
    """``data`` as UTF-8 with its few undecodable bytes replaced (U+FFFD), when it holds more valid
    multi-byte UTF-8 characters than undecodable bytes: one stray cp1252 byte in a UTF-8 file must
    not turn every Greek letter of it into mojibake, as reading the whole file as cp1252 would."""
    text = data.decode("utf-8-sig", errors="replace")
    undecodable = text.count("\ufffd")
    multibyte = sum(1 for character in text if ord(character) > 0x7F) - undecodable
    return text if multibyte > undecodable else None


def _decode_detected(data: bytes) -> str:
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise LoadError("binary content, not text")
    # when several code pages decode without mess (cp1252, cp1250, cp775 for French text), the
    # detector's language guess on short text is noise; the Western one is what such files are
    western = next(
        (match for match in matches if "cp1252" in match.could_be_from_charset and match.chaos <= best.chaos),
        None,
    )
    return str(western or best)


def load(path: Path) -> LoadedDocument:
    text = decode_text(path.read_bytes())
    blocks = plain_text_blocks(text, wrapped=is_hard_wrapped(text))
    if not blocks:
        raise LoadError("no text")
    title = next((text[b.start : b.end] for b in blocks if b.kind == "heading"), path.stem)
    return LoadedDocument(path=path, text=text, blocks=blocks, title=title)
