"""Read tracking-log inputs line by line: files, directories, globs, gzip and standard input.

Readers only split lines, strip a syslog-style prefix before the first ``{``, skip blank
and ``#`` lines, decode JSON and keep the allow-listed fields of each event
(``redaction.redact``: no username, IP, session or agent goes further); what an event means
is the normalizer's business. A line that is not JSON is classified (``bad_json``,
``truncated``, ``binary``, ``too_deep``) so operators can count it, and never stops the
run. Files are streamed, never loaded whole, and each line carries its number and the
byte offset after it so a run can resume where it stopped.
"""
from __future__ import annotations

import glob
import gzip
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from openedx_analytics.pipeline.redaction import redact

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"


class InputError(ValueError):
    """An input path that names nothing readable."""


def expand_inputs(paths: list[str]) -> list[str]:
    """Files named by ``paths`` (files, directories searched recursively, globs, ``-``), in a stable order.

    Each file appears once, as an absolute path, so checkpoints recognise it on the next run.
    """
    found: list[str] = []
    for path in paths:
        if path == STDIN:
            found.append(STDIN)
            continue
        if os.path.isdir(path):
            matches = sorted(
                os.path.join(root, name)
                for root, dirs, files in os.walk(path)
                for name in files
                if not name.startswith(".")
            )
        elif os.path.isfile(path):
            matches = [path]
        else:
            matches = sorted(m for m in glob.glob(path, recursive=True) if os.path.isfile(m))
            if not matches:
                raise InputError(f"no such file, directory or matching glob: {path}")
        found.extend(os.path.abspath(m) for m in matches)
    unique: list[str] = []
    seen: set[str] = set()
    for path in found:
        if path not in seen:
            seen.add(path)
            unique.append(path)
    return unique


def is_gzip(path: str) -> bool:
    """Whether ``path`` is gzip-compressed (by its magic bytes, not its name)."""
    if path == STDIN:
        return False
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


@dataclass(frozen=True)
class Chunk:
    """A line range of one input: lines ``start_line`` (0-based) up to ``end_line`` (exclusive; None: to the end).

    ``start_offset`` is the byte offset of ``start_line`` in a plain file (None for gzip and
    standard input, which are read from their start and skip lines).
    """

    path: str
    start_line: int = 0
    end_line: int | None = None
    start_offset: int | None = 0

    @property
    def key(self) -> str:
        """The chunk's name in a checkpoint."""
        return f"{self.path}#{self.start_line}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (for Celery messages)."""
        return {"path": self.path, "start_line": self.start_line, "end_line": self.end_line,
                "start_offset": self.start_offset}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        """The chunk described by ``to_dict``'s output."""
        return cls(**data)


class LineReader:
    """Iterate ``(line_number, offset_after, line_bytes)`` over a chunk, resuming from a position.

    ``line_number`` is 0-based; ``offset_after`` is the byte offset just after the line in a
    plain file (None for gzip and standard input). ``progress_bytes`` tells how far into the
    (compressed) file the reader is, for progress bars.
    """

    def __init__(self, chunk: Chunk, resume_line: int | None = None, resume_offset: int | None = None) -> None:
        self.chunk = chunk
        self.gzip = is_gzip(chunk.path)
        self.line = chunk.start_line if resume_line is None else resume_line
        self.offset = chunk.start_offset if resume_line is None else resume_offset
        self._raw: IO[bytes] | None = None

    def size(self) -> int | None:
        """The size in bytes of the file on disk (None for standard input)."""
        return None if self.chunk.path == STDIN else os.path.getsize(self.chunk.path)

    def progress_bytes(self) -> int:
        """Bytes of the file on disk consumed so far (compressed bytes for gzip)."""
        if self._raw is None:
            return 0
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def __iter__(self) -> Iterator[tuple[int, int | None, bytes]]:
        """Yield the chunk's remaining lines."""
        chunk = self.chunk
        line_number = self.line
        end = chunk.end_line
        if chunk.path == STDIN:
            stream: IO[bytes] = sys.stdin.buffer
            skip, offset = line_number, None
        elif self.gzip:
            self._raw = open(chunk.path, "rb")  # noqa: SIM115 - closed below
            stream = gzip.GzipFile(fileobj=self._raw, mode="rb")
            skip, offset = line_number, None
        elif self.offset is not None:
            self._raw = stream = open(chunk.path, "rb")  # noqa: SIM115 - closed below
            stream.seek(self.offset)
            skip, offset = 0, self.offset
        else:
            self._raw = stream = open(chunk.path, "rb")  # noqa: SIM115 - closed below
            skip, offset = line_number, 0
        try:
            if skip:
                for count, line in enumerate(stream, start=1):
                    if offset is not None:
                        offset += len(line)
                    if count == skip:
                        break
            for line in stream:
                if end is not None and line_number >= end:
                    break
                if offset is not None:
                    offset += len(line)
                yield line_number, offset, line
                line_number += 1
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
                if self._raw is not None:
                    self._raw.close()


def plan_chunks(path: str, lines_per_chunk: int) -> list[Chunk]:
    """Cut one file into chunks of ``lines_per_chunk`` lines (byte offsets recorded for plain files).

    One pass over the file, counting lines only; standard input is one chunk.
    """
    if path == STDIN:
        return [Chunk(STDIN, 0, None, None)]
    compressed = is_gzip(path)
    opener = gzip.open if compressed else open
    starts: list[tuple[int, int | None]] = [(0, None if compressed else 0)]
    line_number = offset = 0
    with opener(path, "rb") as stream:
        for line in stream:
            line_number += 1
            offset += len(line)
            if line_number % lines_per_chunk == 0:
                starts.append((line_number, None if compressed else offset))
    if len(starts) > 1 and starts[-1][0] == line_number:
        starts.pop()
    chunks = []
    for index, (start, start_offset) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else None
        chunks.append(Chunk(path, start, end, start_offset))
    return chunks


# ---------------------------------------------------------------- lines -> events

#: Outcomes of ``parse_line`` for lines that are not events.
SKIP = "skip"
BAD_JSON = "bad_json"
TRUNCATED = "truncated"
BINARY = "binary"
TOO_DEEP = "too_deep"

_decode = json.JSONDecoder().decode  # only to explain lines orjson refused


def parse_line(line: bytes) -> tuple[Any, str | None, str]:
    """Decode one log line into ``(event, None, "")``, or ``(None, reason, detail)``.

    The event keeps only its allow-listed fields (``redaction.redact``). Blank and ``#``
    comment lines give ``(None, SKIP, "")``. Text before the first ``{`` (a syslog-style
    prefix) is dropped. Nothing here raises for any bytes.
    """
    event, reason, detail = _decode_line(line)
    return (redact(event) if reason is None else None), reason, detail


def _decode_line(line: bytes) -> tuple[Any, str | None, str]:
    start = line.find(b"{")
    if start < 0:
        stripped = line.strip()
        if not stripped or stripped.startswith(b"#"):
            return None, SKIP, ""
        if _looks_binary(stripped):
            return None, BINARY, "binary data"
        return None, BAD_JSON, "no JSON object on the line"
    if start and line.lstrip().startswith(b"#"):
        return None, SKIP, ""
    body = line[start:].rstrip()
    try:
        return orjson.loads(body), None, ""
    except orjson.JSONDecodeError:
        pass
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, BINARY, "not UTF-8 text"
    try:
        return _decode(text), None, ""
    except RecursionError:
        return None, TOO_DEEP, "JSON nested deeper than the parser allows"
    except ValueError as exc:
        if "\x00" in text or _looks_binary(body):
            return None, BINARY, "binary data"
        message = getattr(exc, "msg", "")
        if message.startswith("Unterminated string") or getattr(exc, "pos", 0) >= len(text.rstrip()):
            return None, TRUNCATED, f"line ends inside the JSON object: {exc}"
        return None, BAD_JSON, str(exc)[:200]


def _looks_binary(data: bytes) -> bool:
    """Many control bytes (other than tab/newline) mean binary garbage, not a text line."""
    if b"\x00" in data:
        return True
    controls = sum(1 for byte in data[:512] if byte < 32 and byte not in (9, 10, 13))
    return controls > 2
