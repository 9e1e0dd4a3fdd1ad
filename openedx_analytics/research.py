"""The research export: a course's facts as CSV files for researchers, learners pseudonymized per organization.

Each learner id is replaced by ``HMAC-SHA256(key, "<org>\\n<user id>")`` in hex, the key
being ``OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY`` (never exported): a learner keeps one
pseudonym across the courses of an organization, so researchers can follow them from
course to course, and a different one in another organization's export, so two
organizations' exports cannot be joined; without the key nobody can tell which learner a
pseudonym is, nor test a guess. No username or other LMS data is read. Problem answers
are written for choice inputs only (the part's input type, as the event named it, is a
choice, checkbox or dropdown); free text, and answers of events that named no input type,
are left out unless asked for. Every file is read in primary-key pages and written row
by row, so memory stays bounded whatever the course's size; a data dictionary describes
every file and column. Cells that a spreadsheet would run as a formula are neutralized as
in every CSV we write. The same rows go to a folder (``export_course``, the command) or into
a zip written to a stream and handed on in pieces (``iter_zip``, the REST API), so both hold
the same bytes.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from django.db import models
from opaque_keys.edx.keys import CourseKey

from openedx_analytics import conf
from openedx_analytics.api.v1.renderers import cell
from openedx_analytics.models import (
    ActivityFact,
    CertificateFact,
    EnrollmentFact,
    GradeFact,
    PassingFact,
    ProblemSubmissionFact,
    VideoEventFact,
)

log = logging.getLogger(__name__)

#: The setting holding the pseudonym key.
KEY_SETTING = "OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY"
#: Input types whose answers are one of the problem's own choices.
CHOICE_INPUT_TYPES = frozenset({"choicegroup", "checkboxgroup", "optioninput"})
#: Rows read per query.
PAGE_ROWS = 5000
DICTIONARY_FILE = "data_dictionary.csv"
#: Bytes of a zip gathered before they are handed on (``iter_zip``).
ZIP_PIECE_BYTES = 64 * 1024
#: Rows written between two looks at the clock (``iter_zip``).
ROWS_PER_CLOCK_CHECK = 1000
#: The file a zip that stopped early ends with, saying why; a complete zip never has it.
INCOMPLETE_FILE = "EXPORT_INCOMPLETE.txt"


class ExportError(Exception):
    """The export cannot run (no key set, an unknown course); the message says why."""


def export_key() -> bytes:
    """The pseudonym key from the setting; ``ExportError`` when unset or too short to be secret."""
    key = conf.get(KEY_SETTING) or ""
    if len(key) < 32:
        raise ExportError(f"{KEY_SETTING} must be set to a secret of at least 32 characters")
    return key.encode("utf-8")


def pseudonym(key: bytes, org: str, user_id: int) -> str:
    """The learner's pseudonym in ``org``'s exports: HMAC-SHA256 of the org and the user id, in hex."""
    return hmac.new(key, f"{org}\n{user_id}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Table:
    """One exported file: a fact model, its columns (after ``learner``) and what each means."""

    name: str
    model: type[models.Model]
    fields: tuple[str, ...]
    description: str
    columns: dict[str, str]


_LEARNER = "the learner's pseudonym in this organization (HMAC-SHA256 of the org and the LMS user id; no key exported)"
TABLES = (
    Table("enrollments", EnrollmentFact, ("time", "is_active", "mode"),
          "Each enrollment state seen: activation, deactivation or mode change.",
          {"time": "when (ISO 8601, UTC)", "is_active": "enrolled after this change (true/false; empty: unknown)",
           "mode": "the enrollment mode (audit, verified...)"}),
    Table("activity", ActivityFact, ("day", "kind"),
          "One row per learner, day and kind of activity.",
          {"day": "the day (UTC)", "kind": "any, video, problem or forum"}),
    Table("video_events", VideoEventFact, ("video_id", "time", "action", "position", "old_time", "new_time",
                                           "duration"),
          "Each player event of a learner on a video.",
          {"video_id": "the video's usage key", "time": "when (ISO 8601, UTC)",
           "action": "play, pause, seek or stop", "position": "seconds into the video (play, pause, stop)",
           "old_time": "seek: from (seconds)", "new_time": "seek: to (seconds)",
           "duration": "the video's duration as the player reported it (seconds)"}),
    Table("problem_submissions", ProblemSubmissionFact, ("problem_id", "time", "attempt", "correct"),
          "Each graded submission, one row per part (input) it answered.",
          {"problem_id": "the problem's usage key", "time": "when (ISO 8601, UTC)",
           "attempt": "the attempt number the LMS reported", "correct": "the submission earned credit",
           "part_id": "the part (input) id", "part_correct": "the part's correctness (empty: not reported)",
           "variant": "the random seed of a randomized problem",
           "input_type": "the part's input type (choicegroup, textline...; empty: not reported)",
           "answer": "the answer for choice inputs (choicegroup, checkboxgroup, optioninput); other answers "
                     "are empty unless the export was made with --include-free-text"}),
    Table("grades", GradeFact, ("time", "percent"), "Each course grade computed for a learner.",
          {"time": "when (ISO 8601, UTC)", "percent": "the course grade, 0 to 1"}),
    Table("passing", PassingFact, ("time", "is_passing"), "Each passing status reported for a learner.",
          {"time": "when (ISO 8601, UTC)", "is_passing": "passing the course (true/false)"}),
    Table("certificates", CertificateFact, ("time", "mode", "status"), "Each certificate status reported.",
          {"time": "when (ISO 8601, UTC)", "mode": "the certificate's mode", "status": "its status"}),
)


@dataclass
class Summary:
    """What one course's export wrote: rows per file, answers left out."""

    course_id: str
    folder: Path
    rows: dict[str, int] = field(default_factory=dict)
    answers_left_out: int = 0


def course_folder_name(course_id: str) -> str:
    """A file-system-safe folder name for ``course_id``."""
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in course_id).strip("_")


def _pages(model: type[models.Model], course_id: str, fields: tuple[str, ...]) -> Iterator[tuple]:
    """``("user_id", *fields)`` of the course's rows of ``model``, ``PAGE_ROWS`` at a time in primary-key order."""
    rows = model.objects.using(conf.analytics_db()).filter(course_id=course_id).order_by("pk")
    after = None
    while True:
        page = list((rows if after is None else rows.filter(pk__gt=after))
                    .values_list("pk", "user_id", *fields)[:PAGE_ROWS])
        if not page:
            return
        for row in page:
            yield row[1:]
        after = page[-1][0]


def _submission_rows(row: tuple, include_free_text: bool, summary: Summary) -> Iterator[list[Any]]:
    """One submission as a row per part (one row without a part when it named none)."""
    problem_id, time, attempt, correct, answers = row
    if not answers:
        yield [problem_id, time, attempt, correct, "", "", "", "", ""]
        return
    for answer in answers:
        input_type = answer.get("input_type") or ""
        kept = include_free_text or input_type in CHOICE_INPUT_TYPES
        if not kept and answer.get("value"):
            summary.answers_left_out += 1
        yield [problem_id, time, attempt, correct, answer.get("part_id", ""), answer.get("correct"),
               answer.get("variant") or "", input_type, answer.get("value") if kept else ""]


def _table_rows(table: Table, course_id: str, org: str, key: bytes, include_free_text: bool,
                summary: Summary) -> Iterator[list[Any]]:
    """``table``'s CSV rows for the course, header first, counting its rows into ``summary.rows``."""
    yield ["learner", *table.columns]
    fields = (*table.fields, "answers") if table.model is ProblemSubmissionFact else table.fields
    summary.rows[table.name] = 0
    keyed = hmac.new(key, digestmod=hashlib.sha256)  # the key's pads once; each pseudonym copies them
    last_user, learner = None, ""
    for user_id, *values in _pages(table.model, course_id, fields):
        if user_id != last_user:  # a learner's rows often follow each other
            mac = keyed.copy()
            mac.update(f"{org}\n{user_id}".encode())
            last_user, learner = user_id, mac.hexdigest()
        if table.model is ProblemSubmissionFact:
            lines = _submission_rows(tuple(values), include_free_text, summary)
        else:
            lines = iter([values])
        for line in lines:
            yield [learner, *(cell(value) for value in line)]
            summary.rows[table.name] += 1


def _dictionary_rows(course_id: str, include_free_text: bool) -> Iterator[list[str]]:
    """The data dictionary's rows: a file and column per row, with what it means."""
    yield ["file", "column", "meaning"]
    yield ["*", "", f"Facts of {course_id} held by openedx-analytics; free-text answers "
                    f"{'included' if include_free_text else 'left out'}. Text cells starting with "
                    "=, +, -, @, a tab, a carriage return or a NUL are prefixed with '."]
    for table in TABLES:
        yield [f"{table.name}.csv", "", table.description]
        yield [f"{table.name}.csv", "learner", _LEARNER]
        for column, meaning in table.columns.items():
            yield [f"{table.name}.csv", column, meaning]


def course_files(course_id: str, key: bytes, include_free_text: bool,
                 summary: Summary) -> Iterator[tuple[str, Iterator[list[Any]]]]:
    """Each file of the course's export, in the order written: its name and its CSV rows, read as they are
    consumed. The command and the REST API's zip both write these, so they hold the same bytes."""
    org = CourseKey.from_string(course_id).org
    for table in TABLES:
        yield f"{table.name}.csv", _table_rows(table, course_id, org, key, include_free_text, summary)
    yield DICTIONARY_FILE, _dictionary_rows(course_id, include_free_text)


def csv_writer(out: TextIO) -> Any:
    """The CSV writer of every exported file (CRLF line ends, as every CSV we write)."""
    return csv.writer(out, lineterminator="\r\n")


def export_course(course_id: str, output: Path, *, include_free_text: bool = False,
                  progress: Callable[[str], None] = lambda line: None) -> Summary:
    """Write ``course_id``'s facts under ``output/<course folder>/`` (a CSV per table and the data dictionary)."""
    key = export_key()
    folder = output / course_folder_name(course_id)
    folder.mkdir(parents=True, exist_ok=True)
    summary = Summary(course_id, folder)
    for name, rows in course_files(course_id, key, include_free_text, summary):
        with (folder / name).open("w", newline="", encoding="utf-8") as out:
            csv_writer(out).writerows(rows)
        if name != DICTIONARY_FILE:
            progress(f"{course_id}: {name} {summary.rows[name[:-len('.csv')]]:,} rows")
    return summary


class _Pipe:
    """A write-only, non-seekable file for ``zipfile``: it keeps what is written until ``take`` hands it on.

    Without ``tell``/``seek`` ``zipfile`` writes each entry's sizes after its data (data
    descriptors) and never goes back, so the zip can leave as it is made.
    """

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        """Keep ``data`` until the next ``take``."""
        self.pieces.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: ``take`` hands the bytes on."""

    def take(self) -> bytes:
        """Everything written since the last ``take``, then forget it."""
        data = b"".join(self.pieces)
        self.pieces.clear()
        self.size = 0
        return data


class ExportTimeout(Exception):
    """The zip's time limit passed before every file was written."""


def iter_zip(course_ids: Sequence[str], key: bytes, *, include_free_text: bool = False,
             deadline: float | None = None,
             on_end: Callable[[list[Summary], str | None], None] = lambda summaries, problem: None,
             ) -> Iterator[bytes]:
    """The export of ``course_ids`` as a zip, yielded in pieces of about ``ZIP_PIECE_BYTES`` as it is written.

    The zip holds ``<course folder>/<file>`` for each course: the files ``export_course``
    writes, byte for byte (the same rows through the same CSV writer). Only one piece and
    one page of rows are held at a time, so memory does not grow with the course. Past
    ``deadline`` (``time.monotonic()``), or when reading fails, the file being written is
    closed as far as it went, ``EXPORT_INCOMPLETE.txt`` says what happened and the zip is
    closed, so a reader sees a valid zip that says it is incomplete, and the response ends
    cleanly. ``on_end`` gets the summaries and the problem (None when complete) in every
    case, the reader going away (the generator closed) included.
    """
    pipe = _Pipe()
    summaries: list[Summary] = []
    problem: str | None = None
    current = ""
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        try:
            for course_id in course_ids:
                folder = course_folder_name(course_id)
                summary = Summary(course_id, Path(folder))
                summaries.append(summary)
                for name, rows in course_files(course_id, key, include_free_text, summary):
                    current = f"{folder}/{name}"
                    entry = archive.open(current, "w", force_zip64=True)
                    with io.TextIOWrapper(entry, encoding="utf-8", newline="") as out:
                        writer = csv_writer(out)
                        for count, row in enumerate(rows, 1):
                            writer.writerow(row)
                            if pipe.size >= ZIP_PIECE_BYTES:
                                yield pipe.take()
                            if (deadline is not None and count % ROWS_PER_CLOCK_CHECK == 0
                                    and time.monotonic() > deadline):
                                raise ExportTimeout("the time limit passed")
        except GeneratorExit:  # the reader went away: nothing more is written, nor sent
            on_end(summaries, f"the reader went away while {current} was written")
            raise
        except ExportTimeout as stopped:
            problem = f"{stopped} while writing {current}"
        except Exception:  # noqa: BLE001 - the response is under way: end the zip saying so, never break it
            log.exception("openedx_analytics: research export of %s failed", ", ".join(course_ids))
            problem = f"reading the data failed while writing {current} (the error is in the server's log)"
        if problem is not None:
            archive.writestr(INCOMPLETE_FILE, f"This export is incomplete: {problem}. That file is cut short "
                                              "and the files after it are missing.\n")
        on_end(summaries, problem)
    yield pipe.take()
