"""backfill_analytics over tracking logs: numbers equal to an independent count and to the live path.

The log is small and deterministic; the expected figures are counted here directly from
the events the test wrote, with no code of the plugin involved.
"""
from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import random
import re
from collections import defaultdict
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from openedx_analytics import api, conf
from openedx_analytics.models import BackfillCheckpoint, EnrollmentFact, RejectionCount
from openedx_analytics.pipeline import ingest as ingest_module
from openedx_analytics.worker.tasks import process_event_batch

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])

ALPHA = "course-v1:TestX+Alpha+2026"
BETA = "TestX/Beta/2014"  # old-style id
GAMMA = "course-v1:OtherU+Gamma+2026"
COURSES = (ALPHA, BETA, GAMMA)
MONDAY = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
DAYS = 21
LEARNERS = 30
DURATION = 60.0


def video_key(course: str, name: str) -> str:
    if course.startswith("course-v1:"):
        return f"block-v1:{course[10:]}+type@video+block@{name}"
    org, num, _run = course.split("/")
    return f"i4x://{org}/{num}/video/{name}"


def problem_key(course: str, name: str) -> str:
    return video_key(course, name).replace("video", "problem")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return MONDAY + dt.timedelta(days=day, hours=hour, minutes=minute)


def line(event_type: str, when: dt.datetime, user: int | None, course: str | None, event, *,
         source: str = "server", page: str | None = None, path: str = "/event", **extra) -> dict:
    context = {"user_id": user, "path": path, "org_id": "TestX"}
    if course is not None:
        context["course_id"] = course
    return {"username": f"u{user}", "event_type": event_type, "event_source": source, "time": when.isoformat(),
            "context": context, "event": event, "page": page, "host": "lms.test", **extra}


class SampleLog:
    """A deterministic log and the facts it states, kept in plain dicts for direct counting."""

    def __init__(self, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.events: list[dict] = []
        self.enrollments: list[tuple[str, int, dt.datetime, str]] = []  # course, user, time, active|inactive|mode
        self.activity: list[tuple[str, int, dt.date, str]] = []  # course, user, day, kind
        self.viewings: list[tuple[str, str, int, float, float]] = []  # course, video, user, start, end
        self.submissions: list[tuple[str, str, int, int, bool]] = []  # course, problem, user, attempt, correct
        for user in range(1, LEARNERS + 1):
            courses = [ALPHA if user % 3 else BETA] + ([GAMMA] if user % 5 == 0 else [])
            for course in courses:
                self._learner(rng, user, course)

    def _learner(self, rng: random.Random, user: int, course: str) -> None:
        first = user % 7
        mode = "verified" if user % 2 else "audit"
        self._enroll("edx.course.enrollment.activated", course, user, at(first, 8), mode)
        if user % 6 == 1:
            self._enroll("edx.course.enrollment.mode_changed", course, user, at(first + 1, 9), "honor")
        if user % 4 == 0:
            self._enroll("edx.course.enrollment.deactivated", course, user, at(first + 3, 10), mode)
        if user % 8 == 0:
            self._enroll("edx.course.enrollment.activated", course, user, at(first + 10, 11), "audit")
        for attempt, offset in enumerate((0, 2, 5, 9), start=1):
            day = first + offset
            if day >= DAYS:
                continue
            page = f"https://lms.test/courses/{course}/courseware/ch1/seq1/"
            # a page request whose event type is the URL path (course from the path only)
            path = f"/courses/{course}/courseware/ch1/"
            self.events.append(line(path, at(day, 12), user, None, json.dumps({"GET": {}, "POST": {}}), path=path))
            self.activity.append((course, user, at(day, 12).date(), "any"))
            # courseware navigation from the browser: event is a JSON string
            self.events.append(line("edx.ui.lms.sequence.next_selected", at(day, 12, 5), user, course,
                                    json.dumps({"current_tab": 1, "tab_count": 4}), source="browser", page=page))
            # a video viewing: play at a position, pause later (legacy names, or mobile edx.video.*)
            video = f"vid{1 + (user + attempt) % 2}"
            start = float(5 * rng.randrange(3))
            end = start + rng.choice((3.0, 7.5, 12.0, 24.0))
            mobile = user % 5 == 2
            names = ("edx.video.played", "edx.video.paused") if mobile else ("play_video", "pause_video")
            for name, position, minute in ((names[0], start, 20), (names[1], end, 25)):
                payload = {"id": video_key(course, video) if mobile else video, "currentTime": position,
                           "duration": DURATION, "code": "html5"}
                if mobile:
                    event = line(name, at(day, 13, minute), user, course, payload, source="mobile",
                                 page=None)
                    event["context"]["application"] = {"name": "edx.mobileapp.android", "version": "2.0"}
                else:
                    event = line(name, at(day, 13, minute), user, course, json.dumps(payload), source="browser",
                                 page=page)
                self.events.append(event)
            self.viewings.append((course, video_key(course, video), user, start, end))
            self.activity.append((course, user, at(day, 13).date(), "video"))
            # a graded submission (server) and its browser twin (activity only)
            problem = problem_key(course, "p1")
            correct = (user + attempt) % 3 != 0
            part = "p1_2_1"
            self.events.append(line("problem_check", at(day, 14), user, course, f"input_{part}=choice_1",
                                    source="browser", page=page))
            self.events.append(line("problem_check", at(day, 14, 1), user, course, {
                "problem_id": problem, "attempts": attempt, "grade": int(correct), "max_grade": 1,
                "success": "correct" if correct else "incorrect", "answers": {part: f"choice_{int(correct)}"},
                "correct_map": {part: {"correctness": "correct" if correct else "incorrect"}},
            }, page="x_module"))
            self.submissions.append((course, problem, user, attempt, correct))
            self.activity.append((course, user, at(day, 14).date(), "problem"))
            if attempt == 2 and user % 3 == 1:
                self.events.append(line("edx.forum.thread.created", at(day, 15), user, course,
                                        {"id": f"t{user}", "body": "hello", "commentable_id": "c"}))
                self.activity.append((course, user, at(day, 15).date(), "forum"))

    def _enroll(self, name: str, course: str, user: int, when: dt.datetime, mode: str) -> None:
        event = line(name, when, user, course, {"course_id": course, "user_id": user, "mode": mode},
                     path="/api/enrollment/v1/enrollment")
        self.events.append(event)
        state = {"edx.course.enrollment.activated": "active", "edx.course.enrollment.deactivated": "inactive"}
        self.enrollments.append((course, user, when, state.get(name, "mode")))

    def lines(self, *, noise: bool = True) -> list[str]:
        """The log as text lines, in time order, with syslog prefixes, comments and duplicates."""
        ordered = sorted(self.events, key=lambda e: e["time"])
        out = ["# tracking log, rotated 2026-01-05", ""]
        for index, event in enumerate(ordered):
            text = json.dumps(event)
            if noise and index % 11 == 0:
                text = f"Jan  5 12:00:00 lms-1 [service_variant=lms][tracking] INFO 1234 : {text}"
            out.append(text)
            if noise and index % 17 == 0:
                out.append(text)  # the same line delivered twice
        return out

    def write(self, path: Path, *, gz: bool = False, extra: list[str] | None = None) -> Path:
        text = "\n".join(self.lines() + (extra or [])) + "\n"
        if gz:
            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
        return path

    # ------------------------------------------------------------ expected figures, counted directly

    def enrollment_counts(self, course: str) -> dict[dt.date, int]:
        """Learners enrolled at the end of each day of the log."""
        counts = {}
        for offset in range(DAYS):
            end = at(offset + 1, 0)
            state: dict[int, bool] = {}
            for c, user, when, what in sorted(self.enrollments, key=lambda e: e[2]):
                if c == course and when < end:
                    if what == "active":
                        state[user] = True
                    elif what == "inactive":
                        state[user] = False
                    else:
                        state.setdefault(user, True)
            counts[(MONDAY + dt.timedelta(days=offset)).date()] = sum(state.values())
        return counts

    def weekly_activity(self, course: str) -> dict[dt.date, dict[str, int]]:
        weeks: dict[dt.date, dict[str, set]] = defaultdict(lambda: defaultdict(set))
        for c, user, day, kind in self.activity:
            if c == course:
                monday = day - dt.timedelta(days=day.weekday())
                weeks[monday]["any"].add(user)
                weeks[monday][kind].add(user)
        names = {"any": "any", "video": "played_video", "problem": "attempted_problem", "forum": "posted_forum"}
        return {week: {names[k]: len(users.get(k, ())) for k in names} for week, users in weeks.items()}

    def video_users(self, course: str) -> dict[str, dict[int, int]]:
        users: dict[str, dict[int, set]] = defaultdict(lambda: defaultdict(set))
        for c, video, user, start, end in self.viewings:
            if c == course:
                for segment in range(int(start) // 5, int(end) // 5 + 1):
                    users[video][segment].add(user)
        return {video: {s: len(u) for s, u in segments.items()} for video, segments in users.items()}

    def problems(self, course: str) -> dict[str, dict[str, int]]:
        last: dict[tuple[str, int], tuple[int, bool]] = {}
        total: dict[str, int] = defaultdict(int)
        for c, problem, user, attempt, correct in self.submissions:
            if c == course:
                total[problem] += 1
                if (problem, user) not in last or attempt > last[(problem, user)][0]:
                    last[(problem, user)] = (attempt, correct)
        result = {}
        for problem in total:
            mine = [v for (p, _u), v in last.items() if p == problem]
            result[problem] = {"users_attempted": len(mine), "total_submissions": total[problem],
                               "correct_submissions": sum(1 for _a, ok in mine if ok)}
        return result


def backfill(*args: str) -> str:
    out = io.StringIO()
    call_command("backfill_analytics", *args, "--no-progress", stdout=out)
    return out.getvalue()


def snapshot(courses=COURSES) -> dict:
    """Every number the API serves for the courses, without timestamps."""
    def clean(rows):
        return [{k: v for k, v in row.items() if k not in ("last_updated", "partial")} for row in rows]

    result = {}
    for course in courses:
        videos = clean(api.get_videos(course))
        problems = clean(api.get_problems(course))
        result[course] = {
            "enrollment": clean(api.get_enrollment(course)),
            "weeks": clean(api.get_activity(course)),
            "days": clean(api.get_activity(course, granularity="day")),
            "videos": videos,
            "timelines": {v["video_id"]: api.get_video_timeline(course, v["video_id"]) for v in videos},
            "problems": problems,
            "answers": {p["problem_id"]: api.get_answer_distribution(course, p["problem_id"]) for p in problems},
            "grades": {k: v for k, v in api.get_grades(course).items() if k != "last_updated"},
        }
    return result


def analytics_rows() -> dict[str, int]:
    using = conf.analytics_db()
    return {
        model.__name__: model.objects.using(using).count()
        for model in apps.get_app_config("openedx_analytics").get_models()
        if not getattr(model, "ANALYTICS_DEFAULT_DB", False)
    }


def wipe() -> None:
    using = conf.analytics_db()
    for model in apps.get_app_config("openedx_analytics").get_models():
        if not getattr(model, "ANALYTICS_DEFAULT_DB", False):
            model.objects.using(using).all().delete()


def assert_matches_log(log: SampleLog, courses=COURSES) -> None:
    for course in courses:
        enrollment = {row["date"]: row["count"] for row in api.get_enrollment(course)}
        for day, count in log.enrollment_counts(course).items():
            if count or day in enrollment:
                assert enrollment.get(day) == count, (course, day)
        weeks = {row["interval_start"]: {k: row[k] for k in ("any", "played_video", "attempted_problem",
                                                               "posted_forum")}
                 for row in api.get_activity(course)}
        assert weeks == log.weekly_activity(course), course
        for video, segments in log.video_users(course).items():
            timeline = {row["segment"]: row["num_users"] for row in api.get_video_timeline(course, video)}
            assert {s: n for s, n in timeline.items() if n} == segments, (course, video)
        problems = {row["problem_id"]: {k: row[k] for k in ("users_attempted", "total_submissions",
                                                             "correct_submissions")}
                    for row in api.get_problems(course)}
        assert problems == log.problems(course), course


# ---------------------------------------------------------------- the tests


def test_backfill_equals_independent_count_and_live_path(tmp_path):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    output = backfill("--tracking-logs", str(path))
    assert "Rejected: 0" in output, output
    assert_matches_log(log)
    backfilled = snapshot()
    assert backfilled[ALPHA]["videos"] and backfilled[BETA]["problems"]

    # The same events sent live give the same numbers.
    wipe()
    events = [json.loads(text[text.index("{"):]) for text in log.lines() if "{" in text]
    for start in range(0, len(events), 50):
        process_event_batch.delay(events[start:start + 50], "live")
    assert snapshot() == backfilled


def test_second_backfill_changes_nothing(tmp_path):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    backfill("--tracking-logs", str(path))
    first, rows = snapshot(), analytics_rows()
    assert "already finished" in backfill("--tracking-logs", str(path))
    output = backfill("--tracking-logs", str(path), "--restart")
    assert "Events accepted" in output
    assert snapshot() == first
    after = analytics_rows()
    assert {k: v for k, v in after.items() if k != "ScopeLock"} == {k: v for k, v in rows.items() if k != "ScopeLock"}


def test_live_then_backfill_over_the_same_window_changes_nothing(tmp_path):
    log = SampleLog()
    events = [json.loads(text[text.index("{"):]) for text in log.lines() if "{" in text]
    process_event_batch.delay(events, "live")
    live = snapshot()
    backfill("--tracking-logs", str(log.write(tmp_path / "tracking.log")))
    assert snapshot() == live


def test_garbage_log_gives_exact_summary_and_correct_numbers(tmp_path):
    log = SampleLog()
    good = log.lines(noise=False)
    truncated = good[5][: len(good[5]) // 2]
    garbage = [
        truncated,  # truncated
        "\x00\x01\x02binary\x03\x04\x05 garbage",  # binary
        "not json at all",  # bad_json
        '{"event_type": "play_video", "time": "2026-01-06T10:00:00+00:00", '
        '"context": {"user_id": "someone", "course_id": "' + ALPHA + '"}, "event": {"id": "v"}}',  # wrong type
        '{"event_type": "edx.course.enrollment.activated", "time": "yesterday", "context": {}, "event": {}}',
        '{"event_type": "some.unknown.event", "time": "2026-01-06T10:00:00+00:00", "context": {}, "event": {}}',
        '{"event_type": "play_video", "time": "2026-01-06T10:00:00+00:00", "event": 17, '
        '"context": {"user_id": 3, "course_id": "' + ALPHA + '"}}',  # payload of the wrong type
        "   ",
        "# a comment {with braces}",
    ]
    path = tmp_path / "garbage.log"
    path.write_bytes(("\n".join(good + garbage) + "\n").encode() + b"\xff\xfe\xfa{\"bad\": \xff}\n")
    output = backfill("--tracking-logs", str(path))
    expected = {"truncated": 1, "binary": 2, "bad_json": 1, "bad_user_id": 1, "bad_time": 1,
                "untracked_event": 1, "wrong_type": 1}
    for reason, count in expected.items():
        assert f"  {reason}: {count}\n" in output, (reason, output)
    assert f"Rejected: {sum(expected.values())}\n" in output
    assert f"Lines read: {len(good) + len(garbage) + 1:,} (blank or comment: 4)" in output
    assert f"garbage.log:{len(good) + 1}: line ends inside the JSON object" in output
    counts = dict(RejectionCount.objects.using(conf.analytics_db()).filter(source="backfill")
                  .values_list("reason", "count"))
    assert counts == expected
    assert_matches_log(log)


def test_dry_run_writes_nothing_and_says_what_would_change(tmp_path):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log", extra=["garbage"])
    output = backfill("--tracking-logs", str(path), "--dry-run")
    assert set(analytics_rows().values()) == {0}
    enrolments_alpha = sum(1 for c, *_ in log.enrollments if c == ALPHA)
    # duplicated lines are records again, but not new facts
    match = re.search(rf"{re.escape(ALPHA)} enrollment: (\d+) / (\d+) new", output)
    assert match and int(match.group(1)) >= enrolments_alpha and int(match.group(2)) == enrolments_alpha, output
    assert "bad_json: 1" in output and "Dry run: nothing was written" in output
    # After a real run, a dry run finds nothing new.
    backfill("--tracking-logs", str(path))
    output = backfill("--tracking-logs", str(path), "--dry-run")
    assert re.search(rf"{re.escape(ALPHA)} enrollment: \d+ / 0 new\n", output), output


def test_scope_flags_keep_exactly_the_scoped_events(tmp_path):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    output = backfill("--tracking-logs", str(path), "--course", BETA)
    assert "out of scope" in output
    assert api.get_enrollment(ALPHA) == [] and api.get_enrollment(GAMMA) == []
    assert_matches_log(log, courses=[BETA])

    wipe()
    backfill("--tracking-logs", str(path), "--org", "OtherU")
    assert api.get_enrollment(ALPHA) == [] and api.get_enrollment(BETA) == []
    assert_matches_log(log, courses=[GAMMA])

    wipe()
    backfill("--tracking-logs", str(path), "--since", "2026-01-12", "--until", "2026-01-19")
    weeks = {row["interval_start"] for row in api.get_activity(ALPHA)}
    assert weeks == {dt.date(2026, 1, 12)}
    assert api.get_activity(ALPHA)[0]["any"] == log.weekly_activity(ALPHA)[dt.date(2026, 1, 12)]["any"]
    first_fact = EnrollmentFact.objects.using(conf.analytics_db()).order_by("time").first()
    assert first_fact.time >= at(7, 0)
    assert not EnrollmentFact.objects.using(conf.analytics_db()).filter(time__gte=at(14, 0)).exists()


def test_interrupted_backfill_resumes_to_the_same_result(tmp_path, monkeypatch):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    backfill("--tracking-logs", str(path), "--batch-size", "40")
    uninterrupted = snapshot()
    wipe()

    real_write = ingest_module.write_facts
    calls = {"n": 0}

    def dying_write(records, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("killed mid-file")
        return real_write(records, **kwargs)

    monkeypatch.setattr(ingest_module, "write_facts", dying_write)
    with pytest.raises(KeyboardInterrupt):
        backfill("--tracking-logs", str(path), "--batch-size", "40")
    checkpoint = BackfillCheckpoint.objects.using(conf.analytics_db()).get()
    (position,) = checkpoint.position.values()
    assert not checkpoint.finished and not position["done"] and position["line"] > 0
    assert position["offset"] == len("\n".join(path.read_text().split("\n")[: position["line"]])) + 1

    monkeypatch.setattr(ingest_module, "write_facts", real_write)
    output = backfill("--tracking-logs", str(path), "--batch-size", "40")
    assert "Resumed from the checkpoint" in output
    total_lines = len(path.read_text().splitlines())
    assert f"Lines read: {total_lines - position['line']:,}" in output
    assert snapshot() == uninterrupted
    assert BackfillCheckpoint.objects.using(conf.analytics_db()).get().finished


def test_interrupted_gzip_backfill_resumes_by_line(tmp_path, monkeypatch):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log.gz", gz=True)
    real_write = ingest_module.write_facts
    calls = {"n": 0}

    def dying_write(records, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker lost")
        return real_write(records, **kwargs)

    monkeypatch.setattr(ingest_module, "write_facts", dying_write)
    with pytest.raises(RuntimeError):
        backfill("--tracking-logs", str(path), "--batch-size", "50")
    monkeypatch.setattr(ingest_module, "write_facts", real_write)
    backfill("--tracking-logs", str(path), "--batch-size", "50")
    assert_matches_log(log)


def test_inputs_directories_globs_and_stdin(tmp_path, monkeypatch):
    log = SampleLog()
    lines = log.lines()
    half = len(lines) // 2
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "tracking.log.1").write_text("\n".join(lines[:half]) + "\n")
    (folder / "tracking.log.2.gz").write_bytes(gzip.compress(("\n".join(lines[half:]) + "\n").encode()))
    output = backfill("--tracking-logs", str(folder))
    assert f"Lines read: {len(lines):,}" in output
    assert_matches_log(log)
    first = snapshot()

    wipe()
    backfill("--tracking-logs", str(folder / "tracking.log.*"))
    assert snapshot() == first

    wipe()
    stdin = io.TextIOWrapper(io.BytesIO(("\n".join(lines) + "\n").encode()))
    monkeypatch.setattr("sys.stdin", stdin)
    backfill("--tracking-logs", "-")
    assert snapshot() == first


def test_workers_split_the_log_into_celery_chunks(tmp_path):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    backfill("--tracking-logs", str(path))
    single = snapshot()
    wipe()
    output = backfill("--tracking-logs", str(path), "--workers", "3", "--chunk-lines", "100")
    assert snapshot() == single
    checkpoint = BackfillCheckpoint.objects.using(conf.analytics_db()).get()
    assert len(checkpoint.position) == -(-len(path.read_text().splitlines()) // 100)
    assert all(entry["done"] for entry in checkpoint.position.values())
    assert "Rejected: 0" in output


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(CommandError, match="nothing to backfill"):
        backfill()
    with pytest.raises(CommandError, match="no such file"):
        backfill("--tracking-logs", str(tmp_path / "missing.log"))
    with pytest.raises(CommandError, match="not a course id"):
        backfill("--tracking-logs", str(tmp_path), "--course", "nonsense")
    with pytest.raises(CommandError, match="--since must be before --until"):
        backfill("--tracking-logs", str(tmp_path), "--since", "2026-02-01", "--until", "2026-01-01")
