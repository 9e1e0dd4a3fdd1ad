"""The data the REST API and page benchmarks read: one big course, and many small ones held by one user.

The API and the page read aggregate rows only, so they are written directly, in bulk, on
the test host's databases (``test_settings``; MariaDB by default, ``OA_MYSQL_PREFIX`` names
them):

- ``BIG``: one course with 100,000 learners and a year of daily history (enrollment and
  activity days, weeks, 60 videos x 120 segments, 200 problems with answer distributions,
  grades);
- ``many_courses``: courses with a year of daily enrollment each, a week of activity and a
  grades row;
- ``people``: a course-staff user of ``BIG`` and one of every small course, logged in
  (session keys), the rollout flag on for everyone and the API throttle out of the way;
- ``big_course_outline``: ``BIG``'s outline in the stand-in LMS tables (sections, subsections,
  units holding its videos and problems, graded assignment types with weights, content tags,
  a passing grade), so the page's drill-downs through the outline have a course to walk.
"""
from __future__ import annotations

import datetime as dt
import os
import random

from bench.harness.databases import drop_mysql

LEARNERS = 100_000
BIG = "course-v1:Bench+Big+2026"
VIDEOS, SEGMENTS, PROBLEMS = 60, 120, 200
#: The video and problem the drill-downs open.
VIDEO = "block-v1:Bench+Big+2026+type@video+block@v007"
PROBLEM = "block-v1:Bench+Big+2026+type@problem+block@p042"
#: BIG's outline: sections of subsections; each subsection's units hold its videos and problems.
SECTIONS, SUBSECTIONS = 10, 4
#: The outline's first section and its first subsection (graded: Homework), which the drill-downs open.
SECTION = "block-v1:Bench+Big+2026+type@chapter+block@s01"
SUBSECTION = "block-v1:Bench+Big+2026+type@sequential+block@s01_1"
#: Assignment types, their weights and the subsection numbers (within a section) that carry them.
GRADER = (("Homework", "HW", 0.4, (1, 2)), ("Lab", "Lab", 0.2, (3,)), ("Final Exam", "Final", 0.4, ()))
OUTCOMES = ("Reading data", "Loops", "Functions", "Testing")
TODAY = dt.datetime.now(dt.timezone.utc).date()
START = TODAY - dt.timedelta(days=365)


def create_databases() -> None:
    """Empty MariaDB databases of ``OA_MYSQL_PREFIX`` (whatever they held is dropped)."""
    drop_mysql(os.environ["OA_MYSQL_PREFIX"], create=True)


def setup_django() -> None:
    """Django on the test host's settings, both databases migrated (in this process)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", database="default", verbosity=0)
    call_command("migrate", database="analytics", verbosity=0)


def days() -> list[dt.date]:
    """Every day of the year of history, from ``START`` to ``TODAY``."""
    return [START + dt.timedelta(days=i) for i in range((TODAY - START).days + 1)]


def big_course(now: dt.datetime) -> None:
    """The aggregate rows of ``BIG``: a year of days and weeks, its videos, problems and grades."""
    from openedx_analytics import models as m

    rng = random.Random(1)
    using = "analytics"
    enrollment, activity = [], []
    count = 0
    for i, day in enumerate(days()):
        count = min(LEARNERS, count + rng.randint(200, 350))
        modes = {"audit": {"count": int(count * 0.7), "cumulative_count": int(count * 0.72)},
                 "verified": {"count": int(count * 0.25), "cumulative_count": int(count * 0.25)},
                 "masters": {"count": count - int(count * 0.7) - int(count * 0.25), "cumulative_count": 900}}
        enrollment.append(m.EnrollmentDay(course_id=BIG, date=day, count=count, cumulative_count=count + i * 3,
                                          enrollments=300, unenrollments=20, modes=modes, last_updated=now))
        activity.append(m.ActivityDay(course_id=BIG, date=day, any=count // 5, attempted_problem=count // 12,
                                      played_video=count // 8, posted_forum=count // 200, last_updated=now))
    m.EnrollmentDay.objects.using(using).bulk_create(enrollment, batch_size=1000)
    enrollment_summaries([BIG])
    m.ActivityDay.objects.using(using).bulk_create(activity, batch_size=1000)
    monday = START - dt.timedelta(days=START.weekday())
    weeks = []
    while monday <= TODAY:
        weeks.append(m.ActivityWeek(course_id=BIG, interval_start=monday, any=30000, attempted_problem=12000,
                                    played_video=20000, posted_forum=900, last_updated=now))
        monday += dt.timedelta(days=7)
    m.ActivityWeek.objects.using(using).bulk_create(weeks)
    videos, segments = [], []
    for v in range(VIDEOS):
        vid = f"block-v1:Bench+Big+2026+type@video+block@v{v:03d}"
        videos.append(m.VideoSummary(course_id=BIG, video_id=vid, duration=SEGMENTS * 5, segment_length=5,
                                     users_at_start=60000, users_at_end=30000, views=90000, last_updated=now))
        segments += [m.VideoSegment(course_id=BIG, video_id=vid, segment=s, num_users=60000 - s * 200,
                                    num_views=90000 - s * 250) for s in range(SEGMENTS)]
    m.VideoSummary.objects.using(using).bulk_create(videos)
    m.VideoSegment.objects.using(using).bulk_create(segments, batch_size=2000)
    problems, answers = [], []
    for p in range(PROBLEMS):
        pid = f"block-v1:Bench+Big+2026+type@problem+block@p{p:03d}"
        problems.append(m.ProblemSummary(course_id=BIG, problem_id=pid, part_ids=["2_1", "3_1"], users_attempted=50000,
                                         total_submissions=80000, correct_submissions=35000,
                                         first_attempt_correct=20000, attempts_mean=1.6, last_updated=now))
        answers += [m.ProblemAnswer(course_id=BIG, problem_id=pid, part_id=part, answer_value=f"choice_{a}",
                                    correct=a == 0, variant="", count=10000 - a * 1000)
                    for part in ("2_1", "3_1") for a in range(8)]
    m.ProblemSummary.objects.using(using).bulk_create(problems)
    m.ProblemAnswer.objects.using(using).bulk_create(answers, batch_size=2000)
    buckets = [{"bucket": f"{b * 10}-{b * 10 + 9}" if b < 9 else "90-100", "count": 10000} for b in range(10)]
    m.CourseGrades.objects.using(using).create(course_id=BIG, passing_users=41000, buckets=buckets,
                                               certificates={"verified": 20000, "honor": 5000}, last_updated=now)


def big_course_outline() -> None:
    """``BIG``'s outline in the stand-in LMS tables: 10 sections x 4 subsections, each subsection's units
    holding 1 or 2 of the 60 videos and 5 of the 200 problems (course order follows their numbers);
    subsections 1-2 of a section are Homework, 3 Lab, the very last one the Final Exam, the rest
    ungraded; every problem carries one of four learning-outcome tags; passing at 60%."""
    from opaque_keys.edx.keys import CourseKey

    from lms_host.stub.models import CourseBlock, CourseGradingPolicy, CourseOverview

    key = CourseKey.from_string(BIG)
    root = str(key.make_usage_key("course", "course"))
    rows = [CourseBlock(course_id=key, usage_key=root, block_type="course", display_name="Big course")]

    def add(block_type: str, block_id: str, name: str, parent: str, position: int, **fields: object) -> str:
        usage_key = str(key.make_usage_key(block_type, block_id))
        rows.append(CourseBlock(course_id=key, usage_key=usage_key, block_type=block_type, display_name=name,
                                parent=parent, position=position, **fields))
        return usage_key

    videos, problems = iter(range(VIDEOS)), iter(range(PROBLEMS))
    formats = {number: kind for kind, _label, _weight, numbers in GRADER for number in numbers}
    for i in range(1, SECTIONS + 1):
        chapter = add("chapter", f"s{i:02d}", f"Week {i}", root, i)
        for j in range(1, SUBSECTIONS + 1):
            kind = "Final Exam" if (i, j) == (SECTIONS, SUBSECTIONS) else formats.get(j, "")
            sequential = add("sequential", f"s{i:02d}_{j}", f"Week {i}, part {j}", chapter, j,
                             graded=bool(kind), format=kind)
            index = (i - 1) * SUBSECTIONS + j
            leaves = [("video", f"v{next(videos):03d}") for _ in range(2 if index <= 20 else 1)]
            leaves += [("problem", f"p{next(problems):03d}") for _ in range(5)]
            for k, (block_type, block_id) in enumerate(leaves, 1):
                vertical = add("vertical", f"u{i:02d}_{j}_{k}", f"Unit {i}.{j}.{k}", sequential, k)
                tags = OUTCOMES[int(block_id[1:]) % len(OUTCOMES)] if block_type == "problem" else ""
                add(block_type, block_id, f"{block_type.title()} {block_id}", vertical, 1, tags=tags)
    CourseBlock.objects.bulk_create(rows, batch_size=1000)
    CourseGradingPolicy.objects.create(course_id=key, grade_cutoffs={"Pass": 0.6}, grader=[
        {"type": kind, "short_label": label, "min_count": max(len(numbers), 1) * SECTIONS, "drop_count": 0,
         "weight": weight} for kind, label, weight, numbers in GRADER])
    CourseOverview.objects.filter(id=key).update(lowest_passing_grade=0.6)


def enrollment_summaries(course_ids: list[str]) -> None:
    """The courses' ``EnrollmentSummary`` rows from the days just written in bulk, as the enrollment engine
    writes them after its days (``metrics.enrollment.write_summary``)."""
    from openedx_analytics.metrics import enrollment

    for course in course_ids:
        enrollment.write_summary(course, "analytics")


def many_courses(now: dt.datetime, count: int) -> list[str]:
    """``count`` more courses with a year of daily enrollment (and its summary row), a week of activity and a
    grades row each; their ids."""
    from openedx_analytics import models as m

    ids = [f"course-v1:Many+C{i:04d}+2026" for i in range(count)]
    last_week = TODAY - dt.timedelta(days=TODAY.weekday() + 7)
    rows = []
    for course in ids:
        rows += [m.EnrollmentDay(course_id=course, date=day, count=500, cumulative_count=600, enrollments=2,
                                 unenrollments=1, modes={"audit": {"count": 500, "cumulative_count": 600}},
                                 last_updated=now) for day in days()]
        if len(rows) >= 50_000:
            m.EnrollmentDay.objects.using("analytics").bulk_create(rows, batch_size=5000)
            rows = []
    m.EnrollmentDay.objects.using("analytics").bulk_create(rows, batch_size=5000)
    enrollment_summaries(ids)
    m.ActivityWeek.objects.using("analytics").bulk_create(
        [m.ActivityWeek(course_id=c, interval_start=last_week, any=100, attempted_problem=50, played_video=70,
                        posted_forum=3, last_updated=now) for c in ids], batch_size=5000)
    m.CourseGrades.objects.using("analytics").bulk_create(
        [m.CourseGrades(course_id=c, passing_users=40, buckets=[], certificates={"honor": 30}, last_updated=now)
         for c in ids], batch_size=5000)
    return ids


def people(many: list[str]) -> tuple[str, str]:
    """Session keys of a course-staff user of BIG and of a staff user of every ``many`` course."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from opaque_keys.edx.keys import CourseKey
    from waffle.models import Flag

    from lms_host.stub.models import CourseAccessRole, CourseOverview
    from openedx_analytics.lms.rollout import FLAG_NAME
    from openedx_analytics.models import AnalyticsConfiguration

    keys = [CourseKey.from_string(c) for c in [BIG, *many]]
    CourseOverview.objects.bulk_create([CourseOverview(id=k, display_name=str(k), org=k.org) for k in keys],
                                       batch_size=2000)
    make = get_user_model().objects.create_user
    big_staff, many_staff = make("big_staff"), make("many_staff")
    CourseAccessRole.objects.create(user=big_staff, org="Bench", course_id=keys[0], role="staff")
    CourseAccessRole.objects.bulk_create(
        [CourseAccessRole(user=many_staff, org=k.org, course_id=k, role="staff") for k in keys[1:]], batch_size=2000)
    Flag.objects.create(name=FLAG_NAME, everyone=True)
    AnalyticsConfiguration.objects.create(enabled=True, api_throttle_rate="100000/minute")

    def session(user) -> str:
        store = SessionStore()
        store["_auth_user_id"] = str(user.pk)
        store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        store["_auth_user_hash"] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    return session(big_staff), session(many_staff)
