"""The recovery command logged for lost events: only validated course keys, shell-safe, bounded in length.

The events are what a browser sent; their course ids and times reach an ERROR line an
operator copies into a shell, so a forged id must never be printed (it is counted), every
argument is quoted, and 20,000 lost events of as many courses still make one short line.
"""
from __future__ import annotations

import logging
import shlex

from openedx_analytics.management.commands.backfill_analytics import Command
from openedx_analytics.worker import losses
from openedx_analytics.worker.losses import LossTally, backfill_hint

COURSE = "course-v1:Org+Loss+2026"


def event(course, when="2026-11-22T10:00:04+00:00"):
    return {"name": "play_video", "time": when, "context": {"course_id": course, "user_id": 1}}


def command_words(hint: str) -> list[str]:
    """The hint's command as a shell would split it (the placeholder for the log files dropped)."""
    command = hint.split("Recover with: ", 1)[1]
    assert command.endswith(f" --tracking-logs {losses.LOG_FILES}")
    return shlex.split(command[: -len(f" --tracking-logs {losses.LOG_FILES}")])


def test_a_forged_course_id_is_counted_never_printed():
    forged = [f"{COURSE}\nERROR forged line", f"{COURSE}; touch /tmp/owned", "$(reboot)", "not a course", 42]
    hint = backfill_hint([event(COURSE), *(event(raw) for raw in forged)])
    assert "\n" not in hint and "touch" not in hint and "reboot" not in hint and "forged" not in hint
    assert "5 events had a course id that is not a course key" in hint  # 42 included: no id text
    assert command_words(hint)[:3] == ["backfill_analytics", "--course", COURSE]


def test_a_course_id_with_surrounding_space_is_printed_canonical():
    hint = backfill_hint([event(f"  {COURSE}\n")])
    assert command_words(hint)[1:3] == ["--course", COURSE]


def test_times_are_iso_utc_without_spaces_and_the_window_holds_the_last_event():
    hint = backfill_hint([event(COURSE, "2026-11-22 10:00:04"), event(COURSE, "2026-11-22T12:00:09.5+02:00"),
                          event(COURSE, "tomorrow; rm -rf /")])
    words = command_words(hint)
    assert words[3:] == ["--since", "2026-11-22T10:00:04+00:00", "--until", "2026-11-22T10:00:10+00:00"]
    assert "rm -rf" not in hint
    parser = Command().create_parser("manage.py", "backfill_analytics")
    options = parser.parse_args([*words[1:], "--tracking-logs", "x.log"])  # the command's own parser takes it
    assert options.course == [COURSE] and options.since < options.until


def test_twenty_thousand_courses_make_one_short_line_and_the_rest_are_listed_at_debug(caplog):
    tally = LossTally()
    tally.add(event(f"course-v1:Org+N{n}+2026") for n in range(20_000))
    with caplog.at_level(logging.DEBUG, logger=losses.log.name):
        hint = tally.hint()
    assert len(hint) < 2000 and tally.count == 20_000
    assert command_words(hint).count("--course") == losses.PRINTED_COURSES
    assert f"{losses.KEPT_COURSES - losses.PRINTED_COURSES} more courses are not on the command line" in hint
    assert f"{20_000 - losses.KEPT_COURSES} events of courses past the first {losses.KEPT_COURSES} not kept" in hint
    assert "without --course the command recovers every course of the window" in hint
    listed = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(listed) == losses.KEPT_COURSES // losses.DEBUG_COURSES_PER_LINE
    assert sum(line.count("--course ") for line in listed) == losses.KEPT_COURSES
    assert max(len(line) for line in listed) < 3000
    assert len(tally.courses) == losses.KEPT_COURSES  # memory bounded too


def test_an_overlong_course_key_is_invalid():
    long_course = f"course-v1:Org+{'N' * 300}+2026"
    hint = backfill_hint([event(long_course)])
    assert "N" * 300 not in hint and "1 events had a course id that is not a course key" in hint


def test_events_without_course_or_time_give_a_runnable_command():
    hint = backfill_hint([{"name": "x"}, "not an event"])
    assert command_words(hint) == ["backfill_analytics"]
    assert "no valid course id" in hint and "time unknown" in hint
