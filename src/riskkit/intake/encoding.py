"""How a CSV's bytes become text: declared, or detected by a strict cascade, never guessed.

A byte-order mark decides (UTF-8, UTF-16, UTF-32); otherwise the whole file must be valid
UTF-8, or, when it holds no UTF-8 multi-byte character at all, valid Windows-1252 (what
Excel on a UK desktop writes). A file that is UTF-8 except for a few bytes is a mixed file:
re-reading it all as Windows-1252 would garble every accented name ("ZoÃ«"), so the run
stops naming the first bad byte instead. The same pass counts the file's line breaks, which
``physical`` compares with the parser's record count.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from riskkit.errors import ExtractError

CHUNK = 1 << 24
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# One well-formed UTF-8 multi-byte character: its presence means the file was written as UTF-8.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
ASCII_COMPATIBLE = {"utf-8", "utf-8-sig", "cp1252", "latin-1", "iso-8859-1", "ascii"}


@dataclass(frozen=True)
class Scan:
    """What one pass over the bytes found: the encoding and the physical line count (lines is
    None when the encoding is not ASCII-compatible, so bytes cannot be counted directly)."""

    encoding: str
    lines: int | None


def _line_of(path: Path, offset: int) -> int:
    line, done = 1, 0
    with path.open("rb") as fh:
        while done < offset:
            chunk = fh.read(min(CHUNK, offset - done))
            if not chunk:
                break
            line += chunk.count(b"\n")
            done += len(chunk)
    return line


def _bad_byte(path: Path, offset: int, why: str, fix: str) -> ExtractError:
    return ExtractError(f"{path}: {why} at byte {offset:,} (line {_line_of(path, offset):,}); {fix}")


def _utf16_without_bom(head: bytes) -> bool:
    sample = head[:4096]
    return len(sample) >= 4 and sample.count(b"\x00") * 3 > len(sample)


def _validate(path: Path, encoding: str) -> int | None:
    """The offset of the first byte that does not decode, or None."""
    dec = codecs.getincrementaldecoder(encoding)("strict")
    # Plain ASCII decodes the same in every ASCII-compatible encoding: such a chunk is checked
    # by bytes.isascii (a fast scan) instead of being decoded into text that is thrown away.
    ascii_ok = encoding.lower() in ASCII_COMPATIBLE
    done = pending = 0
    with path.open("rb") as fh:
        try:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                state = dec.getstate()
                pending = len(state[0]) if isinstance(state, tuple) else 0
                if ascii_ok and not pending and chunk.isascii():
                    done += len(chunk)
                    continue
                dec.decode(chunk)
                done += len(chunk)
            state = dec.getstate()
            pending = len(state[0]) if isinstance(state, tuple) else 0
            dec.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return done - pending + exc.start
    return None


def scan(path: Path, declared: str | None) -> Scan:
    """The encoding of ``path`` (``declared`` if given, after checking it decodes) and its lines.

    Remembered for the same file unchanged (its size and modification time): ingest scans every
    byte, and the briefing's inventory, reading the file's first rows again, need not."""
    stat = path.stat()
    return _scan(path.resolve(), declared, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _scan(path: Path, declared: str | None, size: int, mtime_ns: int) -> Scan:
    with path.open("rb") as fh:
        head = fh.read(4096)
    if declared:
        try:
            codecs.lookup(declared)
        except LookupError:
            raise ExtractError(f"{path}: 'encoding: {declared}' is not an encoding Python knows; use e.g. "
                               "utf-8, cp1252, latin-1 or utf-16.") from None
        bad = _validate(path, declared)
        if bad is not None:
            raise _bad_byte(path, bad, f"cannot be read as the declared encoding {declared}",
                            "fix 'encoding' for this file in the incident file.")
        encoding = declared
    else:
        encoding = _detect(path, head)
    lines = count_lines(path) if codecs.lookup(encoding).name in {codecs.lookup(e).name for e in ASCII_COMPATIBLE} \
        else None
    return Scan(encoding, lines)


def _detect(path: Path, head: bytes) -> str:
    utf8_bom = head.startswith(codecs.BOM_UTF8)
    for bom, name in _BOMS:
        if head.startswith(bom) and name != "utf-8-sig":
            bad = _validate(path, name)
            if bad is not None:
                raise _bad_byte(path, bad, f"starts with a {name} byte-order mark but is not valid {name}",
                                "re-export the file, or set 'encoding' for it in the incident file.")
            return name
    if _utf16_without_bom(head):
        raise ExtractError(f"{path}: looks like UTF-16 text without a byte-order mark (NUL bytes between "
                           "characters); set 'encoding: utf-16-le' (or utf-16-be) for this file in the incident file.")
    bad = _validate(path, "utf-8")
    if bad is None:
        return "utf-8-sig" if utf8_bom else "utf-8"
    # A UTF-8 byte-order mark in front of Windows-1252 text (some exporters write one): the
    # BOM alone is no evidence of UTF-8 when no character after it is UTF-8.
    if _has_utf8_characters(path, skip=len(codecs.BOM_UTF8) if utf8_bom else 0):
        raise _bad_byte(path, bad, "is UTF-8 but holds a byte that is not UTF-8",
                        "the file mixes encodings: fix that character (re-save the file as UTF-8), or set "
                        "'encoding: cp1252' for it in the incident file if the whole file is Windows-1252.")
    bad = _validate(path, "cp1252")
    if bad is not None:
        raise _bad_byte(path, bad, "is neither UTF-8 nor Windows-1252",
                        "set 'encoding' for this file in the incident file (e.g. latin-1 or utf-16).")
    return "cp1252"


def _has_utf8_characters(path: Path, skip: int = 0) -> bool:
    with path.open("rb") as fh:
        fh.seek(skip)
        tail = b""
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            if _UTF8_MULTIBYTE.search(tail + chunk):
                return True
            tail = chunk[-3:]
    return False


def count_lines(path: Path) -> int:
    """Physical lines as a CSV parser sees them: ``\\n``, ``\\r\\n`` and a lone ``\\r`` each end
    one; a last line without a line break still counts."""
    lines, last, prev_cr = 0, b"", False
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            cr = chunk.count(b"\r")
            lines += chunk.count(b"\n") + (cr - chunk.count(b"\r\n") if cr else 0)
            if prev_cr and chunk.startswith(b"\n"):
                lines -= 1  # a \r\n split across two chunks
            prev_cr, last = chunk.endswith(b"\r"), chunk[-1:]
    return lines + (1 if last and last not in b"\r\n" else 0)
