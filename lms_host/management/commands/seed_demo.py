"""Fill the demo host with realistic courses, learners and ~60 days of activity, through the live doors.

What it creates:

- five courses (one with an old ``Org/Num/Run`` id, one nobody has joined yet), each with an
  outline of titled sections, subsections, videos and problems (``CourseBlock`` rows), graded
  subsections with their assignment types, content tags on problems (learning outcomes), a
  grading policy with weights (``CourseGradingPolicy``) and a passing grade; Python for
  Everyone has three sections, eight subsections (Homework 40%, Lab 20%, Final Exam 40%, pass
  at 60%) and one published problem nobody has submitted yet;
- learners (``--learners``, default 300) enrolled in one to three courses, some upgrading from
  audit to verified, some unenrolling; the people of ``DEMO_USERS`` (password = user name):
  course staff, an instructor, an org-wide data researcher, staff of another course, a named
  learner and the superuser ``admin``;
- video plays, pauses and seeks, server ``problem_check`` submissions with answers, forum posts,
  course grades and certificates.

How the history is produced: nothing is written into the analytics tables directly. Enrollment
changes, grades and certificates are sent as openedx-events signals (``send_event`` with
``time=`` set to the simulated moment, the timestamp the LMS takes from the database row);
learner activity goes to the event-tracking tracker, whose routing backend hands each event to
every configured backend, ours included, as ``tracker.emit`` does, but with the simulated
``timestamp`` instead of now. Each simulated day is bracketed like one LMS request, so our door
batches its events into Celery messages (eager in the demo: processed at once).

The stub LMS tables (enrollments and their history, roles, grades, certificates, problem
states) are filled to match, so the plugin's LMS history iterators and a backfill have data too.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from eventtracking import tracker
from opaque_keys.edx.keys import CourseKey
from openedx_events.learning import data as ev
from openedx_events.learning import signals

from lms_host.stub import models as lms

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Video:
    """A video: its block id, its length in seconds and the title the course gives it."""

    block: str
    duration: int
    name: str


@dataclass(frozen=True)
class Problem:
    """A multiple-choice problem: its block id, title, the choices and the right one."""

    block: str
    name: str
    question: str
    choices: tuple[str, ...]
    answer: int
    difficulty: float  # chance a first attempt is right
    tags: tuple[str, ...] = ()  # content tags (learning outcomes)
    attempted: bool = True  # False: published, but nobody has submitted it yet


@dataclass(frozen=True)
class Subsection:
    """A subsection (LMS ``sequential``): a titled list of units, one video or problem each."""

    name: str
    blocks: tuple[str, ...]  # block ids of the course's videos and problems, in order
    format: str = ""  # assignment type of a graded subsection ("" ungraded)


@dataclass(frozen=True)
class Section:
    """A section (LMS ``chapter``) of the course outline."""

    name: str
    subsections: tuple[Subsection, ...]


@dataclass(frozen=True)
class Course:
    """A demo course: id, name, popularity, videos, problems and the outline that orders them."""

    course_id: str
    name: str
    share: float  # fraction of learners who enroll (0: a course nobody has joined yet)
    videos: tuple[Video, ...]
    problems: tuple[Problem, ...]
    outline: tuple[Section, ...]
    modes: tuple[str, ...] = ("audit", "verified")
    starts_in_days: int = -60  # course start relative to today
    grader: tuple[tuple[str, str, int, float], ...] = (("Homework", "HW", 1, 1.0),)  # type, label, count, weight
    passing: float = 0.6  # the lowest passing grade

    @property
    def attempted_problems(self) -> tuple[Problem, ...]:
        """The problems learners submit (the others stay without submissions)."""
        return tuple(problem for problem in self.problems if problem.attempted)

    @property
    def key(self) -> CourseKey:
        """The course id as a CourseKey."""
        return CourseKey.from_string(self.course_id)


COURSES = (
    Course("course-v1:DemoX+Py101+2026_T1", "Python for Everyone", 0.75,
           (Video("a1f3c2d4e5b64f7a8b9c0d1e2f3a4b5c", 184, "Welcome to Python for Everyone"),
            Video("b2e4d3c5f6a7480b9c0d1e2f3a4b5c6d", 312, "Numbers, strings and types"),
            Video("c3f5e4d6a7b8491c0d1e2f3a4b5c6d7e", 545, "Loops with for and while"),
            Video("e1f2a3b4c5d64e7f8091a2b3c4d5e6f7", 398, "Writing your own functions"),
            Video("f2a3b4c5d6e74f80912a3b4c5d6e7f80", 450, "Lists, slices and dictionaries")),
           (Problem("py_warmup", "Practice: printing", "What does print(1 + 1) show?", ("11", "2", "1 + 1"), 1,
                    0.9),
            Problem("py_types", "Check: the type of 3.0", "Which type is 3.0?", ("int", "float", "str"), 1, 0.8,
                    ("Data types",)),
            Problem("py_lab_types", "Lab: converting types", "What is int('7') + 1?", ("8", "71", "an error"), 0,
                    0.65, ("Data types",)),
            Problem("py_loops", "Check: counting with range()", "How many times does range(5) loop?",
                    ("4", "5", "6"), 1, 0.6, ("Control flow",)),
            Problem("py_funcs", "Check: return values", "What does a function without return give back?",
                    ("0", "None", "an error"), 1, 0.5, ("Functions",)),
            Problem("py_lab_loops", "Lab: summing with a loop", "What is sum(range(4))?", ("6", "10", "4"), 0,
                    0.55, ("Control flow",)),
            Problem("py_dicts", "Quiz: reading a dictionary", "Which call reads a key with a default?",
                    ("d[k]", "d.get(k, x)", "d.pop()"), 1, 0.45, ("Data structures",)),
            Problem("py_final", "Final exam: putting it together", "What is len([x for x in range(3)])?",
                    ("2", "3", "4"), 1, 0.5, ("Control flow", "Data structures")),
            Problem("py_final_bonus", "Final exam: bonus question", "Which structure keeps insertion order?",
                    ("set", "dict", "neither"), 1, 0.3, ("Data structures",), attempted=False)),
           (Section("Week 1: Getting started", (
               Subsection("Welcome", ("a1f3c2d4e5b64f7a8b9c0d1e2f3a4b5c", "py_warmup")),
               Subsection("Values and types", ("b2e4d3c5f6a7480b9c0d1e2f3a4b5c6d", "py_types"), "Homework"),
               Subsection("Lab: types in practice", ("py_lab_types",), "Lab"))),
            Section("Week 2: Control flow", (
                Subsection("Loops", ("c3f5e4d6a7b8491c0d1e2f3a4b5c6d7e", "py_loops"), "Homework"),
                Subsection("Functions", ("e1f2a3b4c5d64e7f8091a2b3c4d5e6f7", "py_funcs"), "Homework"),
                Subsection("Lab: loops", ("py_lab_loops",), "Lab"))),
            Section("Week 3: Data structures", (
                Subsection("Lists and dictionaries", ("f2a3b4c5d6e74f80912a3b4c5d6e7f80", "py_dicts"), "Homework"),
                Subsection("Final exam", ("py_final", "py_final_bonus"), "Final Exam")))),
           grader=(("Homework", "HW", 4, 0.4), ("Lab", "Lab", 2, 0.2), ("Final Exam", "Final", 1, 0.4)),
           passing=0.6),
    Course("course-v1:DemoX+Data201+2026_T1", "Data Analysis in Practice", 0.45,
           (Video("d4a6f5e7b8c94a2d1e2f3a4b5c6d7e8f", 402, "Mean, median and spread"),
            Video("e5b7a6f8c9d04b3e2f3a4b5c6d7e8f90", 288, "Sampling without bias")),
           (Problem("mean_median", "Check: robust statistics", "Which is robust to outliers?",
                    ("mean", "median", "max"), 1, 0.55),
            Problem("sampling", "Check: why sample at random", "A random sample avoids...",
                    ("bias", "variance", "noise"), 0, 0.5)),
           (Section("Module 1: Describing data", (
               Subsection("Summaries", ("d4a6f5e7b8c94a2d1e2f3a4b5c6d7e8f", "mean_median"), "Homework"),)),
            Section("Module 2: Collecting data", (
                Subsection("Sampling", ("e5b7a6f8c9d04b3e2f3a4b5c6d7e8f90", "sampling"), "Homework"),)))),
    Course("course-v1:OpenU+Hist110+2026", "World History: 1500 to Today", 0.35,
           (Video("f6c8b7a9d0e14c4f3a4b5c6d7e8f9012", 620, "The Thirty Years' War"),),
           (Problem("hist_1648", "Quiz: the Peace of Westphalia", "Which treaty ended the Thirty Years' War?",
                    ("Utrecht", "Westphalia", "Paris"), 1, 0.4),),
           (Section("Part 1: The early modern world", (
               Subsection("Wars of religion", ("f6c8b7a9d0e14c4f3a4b5c6d7e8f9012", "hist_1648"), "Homework"),)),)),
    Course("DemoX/Stat100/2013", "Statistics (2013 run)", 0.2,
           (Video("stat_intro", 240, "What is variability?"),),
           (Problem("stat_sd", "Check: standard deviation", "Standard deviation measures...",
                    ("center", "spread", "shape"), 1, 0.7),),
           (Section("Unit 1: Variability", (Subsection("Spread", ("stat_intro", "stat_sd")),)),),
           modes=("honor",), starts_in_days=-4700),
    # Announced, nobody enrolled yet: what a course team sees before any data arrives.
    Course("course-v1:DemoX+ML301+2027_T1", "Machine Learning Foundations", 0.0,
           (Video("a7d9c8b0e1f25d6a4b5c6d7e8f901234", 420, "What is learning from data?"),),
           (Problem("ml_supervised", "Check: supervised or not?", "Labelled examples make learning...",
                    ("supervised", "unsupervised", "reinforced"), 0, 0.7),),
           (Section("Week 1: Learning from examples", (
               Subsection("Introduction", ("a7d9c8b0e1f25d6a4b5c6d7e8f901234", "ml_supervised")),)),),
           starts_in_days=30),
)

#: The people of the demo, who can log in at the host's login page: (username, what they see).
#: Every password is the username.
DEMO_USERS = (
    ("staff", "course staff of Python for Everyone and Machine Learning Foundations"),
    ("instructor", "instructor of Data Analysis in Practice, course staff of World History"),
    ("researcher", "data researcher for every DemoX course (an org-wide role)"),
    ("otherstaff", "course staff of World History only"),
    ("learner", "a learner in Python for Everyone and Data Analysis (no staff role)"),
    ("admin", "global staff and superuser: every course, and the admin site"),
)

STAFF = (
    # (username, role, course id or None, org) -- None: an org-wide role.
    ("staff", "staff", "course-v1:DemoX+Py101+2026_T1", ""),
    ("staff", "staff", "course-v1:DemoX+ML301+2027_T1", ""),
    ("instructor", "instructor", "course-v1:DemoX+Data201+2026_T1", ""),
    ("instructor", "staff", "course-v1:OpenU+Hist110+2026", ""),
    ("otherstaff", "staff", "course-v1:OpenU+Hist110+2026", ""),
    ("researcher", "data_researcher", None, "DemoX"),
)

#: The named learner's courses (everyone else's are drawn at random).
NAMED_LEARNER = "learner"
NAMED_LEARNER_COURSES = ("course-v1:DemoX+Py101+2026_T1", "course-v1:DemoX+Data201+2026_T1")


@dataclass
class Enrollment:
    """One learner's simulated life in one course."""

    user: User
    course: Course
    start: dt.datetime
    mode: str
    upgrade_at: dt.datetime | None = None
    leave_at: dt.datetime | None = None
    answers: dict[str, tuple[int, str, bool, dt.datetime]] = field(default_factory=dict)
    last_seen: dt.datetime | None = None
    grade: tuple[float, dt.datetime | None] | None = None  # (percent, passed at)
    certificate: tuple[str, dt.datetime] | None = None  # (mode, issued at)


def course_blocks(course: Course) -> list[lms.CourseBlock]:
    """The course's outline as the LMS's block structure has it: course, sections, subsections, units, leaves.

    Each video and problem sits in its own unit (``vertical``), titled like the block, as
    Studio lays out a one-component unit.
    """
    key = course.key
    titles = {video.block: ("video", video.name) for video in course.videos}
    titles.update({problem.block: ("problem", problem.name) for problem in course.problems})
    root = str(key.make_usage_key("course", key.run if key.deprecated else "course"))
    rows = [lms.CourseBlock(course_id=key, usage_key=root, block_type="course", display_name=course.name)]

    tags = {problem.block: "|".join(problem.tags) for problem in course.problems}

    def add(block_type: str, block_id: str, name: str, parent: str, position: int, **fields: Any) -> str:
        usage_key = str(key.make_usage_key(block_type, block_id))
        rows.append(lms.CourseBlock(course_id=key, usage_key=usage_key, block_type=block_type,
                                    display_name=name, parent=parent, position=position, **fields))
        return usage_key

    for i, section in enumerate(course.outline, 1):
        chapter = add("chapter", f"section_{i}", section.name, root, i)
        for j, subsection in enumerate(section.subsections, 1):
            sequential = add("sequential", f"subsection_{i}_{j}", subsection.name, chapter, j,
                             graded=bool(subsection.format), format=subsection.format)
            for k, block in enumerate(subsection.blocks, 1):
                block_type, name = titles[block]
                vertical = add("vertical", f"unit_{i}_{j}_{k}", name, sequential, k)
                add(block_type, block, name, vertical, 1, tags=tags.get(block, ""))
    return rows


def grading_policy(course: Course) -> lms.CourseGradingPolicy:
    """The course's grading policy as Studio stores it (GRADER list and GRADE_CUTOFFS)."""
    return lms.CourseGradingPolicy(
        course_id=course.key, grade_cutoffs={"Pass": course.passing},
        grader=[{"type": kind, "short_label": label, "min_count": count, "drop_count": 0, "weight": weight}
                for kind, label, count, weight in course.grader])


def _user_data(user: User) -> ev.UserData:
    return ev.UserData(id=user.id, is_active=True, pii=ev.UserPersonalData(
        username=user.username, email=user.email, name=user.get_full_name()))


def _course_data(course: Course) -> ev.CourseData:
    return ev.CourseData(course_key=course.key, display_name=course.name)


@contextlib.contextmanager
def lms_request() -> Iterator[None]:
    """Bracket emitted events like one LMS request (our door sends what it staged when it ends).

    Django's own end-of-request connection cleanup is left out: this is not a real request.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    request_started.send(sender=Command)
    try:
        yield
    finally:
        request_finished.send(sender=Command)
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


class Simulation:
    """Everything one run creates; ``events`` are sent in time order by ``Command``."""

    def __init__(self, rng: random.Random, now: dt.datetime, days: int) -> None:
        self.rng = rng
        self.now = now
        self.days = days
        self.events: list[tuple[dt.datetime, int, Any]] = []  # (time, seq, thunk)
        self.enrollments: list[Enrollment] = []

    def at(self, when: dt.datetime, thunk: Any) -> None:
        """Schedule ``thunk`` (something to send) at ``when``."""
        self.events.append((when, len(self.events), thunk))

    def moment(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        """A random moment between ``start`` and ``end``."""
        span = max((end - start).total_seconds(), 1)
        return start + dt.timedelta(seconds=self.rng.uniform(0, span))


#: Profile values and their weights, as a global MOOC's learners report them ("" / None: not given).
PROFILE_GENDERS = (("f", 40), ("m", 45), ("o", 3), ("", 12))
PROFILE_EDUCATION = (("b", 30), ("m", 22), ("hs", 15), ("a", 6), ("p", 4), ("jhs", 3), ("el", 1), ("none", 1),
                     ("other", 3), ("p_se", 1), ("", 14))
PROFILE_COUNTRIES = (("US", 22), ("IN", 14), ("GB", 6), ("BR", 6), ("NG", 5), ("DE", 5), ("CN", 4), ("MX", 4),
                     ("EG", 3), ("FR", 3), ("CA", 3), ("ES", 3), ("PK", 3), ("CO", 2), ("KE", 2), ("JP", 1),
                     ("AU", 1), ("ZA", 1), ("ID", 1), ("", 10))


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def create_profiles(rng: random.Random, year: int) -> None:
    """A profile per demo learner (``auth_userprofile``), varied and partly blank as learners leave them."""
    profiles = []
    for user_id in User.objects.filter(username__startswith="learner").values_list("id", flat=True):
        if rng.random() < 0.04:  # no profile row at all, as for accounts made outside registration
            continue
        age = None if rng.random() < 0.15 else max(14, min(85, int(rng.gauss(31, 10))))
        profiles.append(lms.UserProfile(
            user_id=user_id, year_of_birth=None if age is None else year - age,
            gender=_pick(rng, PROFILE_GENDERS) or None, level_of_education=_pick(rng, PROFILE_EDUCATION),
            country=_pick(rng, PROFILE_COUNTRIES)))
    lms.UserProfile.objects.bulk_create(profiles, batch_size=500)


class Command(BaseCommand):
    """``seed_demo``: courses, users and two months of learner activity, sent through the live doors."""

    help = __doc__

    def add_arguments(self, parser: Any) -> None:
        """Size, span and seed of the simulation."""
        parser.add_argument("--learners", type=int, default=300, help="number of learners (default 300)")
        parser.add_argument("--days", type=int, default=60, help="days of history before today (default 60)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")

    def handle(self, *args: Any, **options: Any) -> None:
        """Seed once (a second run only prints the summary), then print a summary per course."""
        if lms.CourseOverview.objects.filter(id=COURSES[0].key).exists():
            self.stdout.write("Demo data already present; not seeding again.")
            names = [name for name, _who in DEMO_USERS]
            missing = set(names) - set(User.objects.filter(username__in=names).values_list("username", flat=True))
            if missing or not lms.CourseBlock.objects.exists():
                self.stdout.write("It comes from an older demo (no " + (", ".join(sorted(missing)) or "course outlines")
                                  + "); ./demo.sh --fresh recreates it.")
        else:
            self.stdout.write(f"Seeding {len(COURSES)} courses, {options['learners']} learners and "
                              f"{options['days']} days of activity through the LMS's event doors ...")
            started = dt.datetime.now(UTC)
            count = self.seed(options["learners"], options["days"], options["seed"])
            seconds = (dt.datetime.now(UTC) - started).total_seconds()
            self.stdout.write(f"Sent {count} events through the LMS doors in {seconds:.1f} s.")
        self.print_summary()

    # ------------------------------------------------------------ seeding

    def seed(self, learners: int, days: int, seed: int) -> int:
        """Create the LMS side, simulate, and send every event in time order. Returns the event count."""
        rng = random.Random(seed)
        now = dt.datetime.now(UTC).replace(microsecond=0)
        sim = Simulation(rng, now, days)
        self.create_lms(learners, now)
        create_profiles(random.Random(seed), now.year)
        open_courses = [c for c in COURSES if c.share > 0]
        for user in User.objects.filter(username__startswith="learner").order_by("id"):
            if user.username == NAMED_LEARNER:
                picked = [c for c in COURSES if c.course_id in NAMED_LEARNER_COURSES]
            else:
                picked = [c for c in open_courses if rng.random() < c.share] or [rng.choice(open_courses)]
            for course in picked:
                self.plan_enrollment(sim, user, course)
        for enrollment in sim.enrollments:
            self.plan_activity(sim, enrollment)
        for enrollment in sim.enrollments:
            self.plan_grade(sim, enrollment)
        sim.events.sort(key=lambda item: (item[0], item[1]))
        current_day = None
        request: contextlib.AbstractContextManager | None = None
        try:
            for when, _seq, thunk in sim.events:
                if when.date() != current_day:
                    if request is not None:
                        request.__exit__(None, None, None)
                    request = lms_request()
                    request.__enter__()
                    current_day = when.date()
                thunk()
        finally:
            if request is not None:
                request.__exit__(None, None, None)
        self.write_lms_state(sim)
        return len(sim.events)

    def create_lms(self, learners: int, now: dt.datetime) -> None:
        """Courses and their outlines, learners, staff with their roles, and the demo superuser."""
        for course in COURSES:
            lms.CourseOverview.objects.create(id=course.key, display_name=course.name, org=course.key.org,
                                              start=now + dt.timedelta(days=course.starts_in_days),
                                              lowest_passing_grade=Decimal(str(course.passing)))
            lms.CourseBlock.objects.bulk_create(course_blocks(course))
            grading_policy(course).save()
        User.objects.bulk_create([
            User(username=f"learner{n:04d}", email=f"learner{n:04d}@example.com", first_name="Learner",
                 last_name=f"{n:04d}", password="!")  # no usable password
            for n in range(1, learners + 1)
        ])
        for username in sorted({name for name, *_ in STAFF} | {NAMED_LEARNER}):
            User.objects.create(username=username, email=f"{username}@example.com", password=make_password(username))
        for username, role, course_id, org in STAFF:
            key = CourseKey.from_string(course_id) if course_id else None
            lms.CourseAccessRole.objects.create(user=User.objects.get(username=username), role=role,
                                                course_id=key, org=key.org if key else org)
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", "admin")
        # The demo shows the new analytics to everyone allowed to see a course: the rollout
        # flag on for everyone (a real site starts with chosen users, orgs or courses).
        from waffle.models import Flag

        from openedx_analytics.lms.rollout import FLAG_NAME

        Flag.objects.update_or_create(name=FLAG_NAME, defaults={"everyone": True})

    def plan_enrollment(self, sim: Simulation, user: User, course: Course) -> None:
        """Enroll (more in the first weeks), maybe upgrade later, maybe leave."""
        rng = sim.rng
        start = sim.now - dt.timedelta(days=sim.days * rng.betavariate(1.3, 2.2) if rng.random() < 0.8
                                       else sim.days * rng.random())
        start = min(start, sim.now - dt.timedelta(minutes=5))
        mode = course.modes[0] if len(course.modes) == 1 else ("verified" if rng.random() < 0.15 else "audit")
        enrollment = Enrollment(user=user, course=course, start=start, mode=mode)
        if mode == "audit" and rng.random() < 0.15:
            enrollment.upgrade_at = sim.moment(start, sim.now)
        if rng.random() < 0.12:
            enrollment.leave_at = sim.moment(enrollment.upgrade_at or start, sim.now)
        sim.enrollments.append(enrollment)

        def enroll() -> None:
            self.send_enrollment(signals.COURSE_ENROLLMENT_CREATED, enrollment, mode, True, start)
        sim.at(start, enroll)
        if enrollment.upgrade_at:
            def upgrade() -> None:
                self.send_enrollment(signals.COURSE_ENROLLMENT_CHANGED, enrollment, "verified", True,
                                     enrollment.upgrade_at)
            sim.at(enrollment.upgrade_at, upgrade)
        if enrollment.leave_at:
            def leave() -> None:
                final_mode = "verified" if enrollment.upgrade_at else mode
                self.send_enrollment(signals.COURSE_UNENROLLMENT_COMPLETED, enrollment, final_mode, False,
                                     enrollment.leave_at)
            sim.at(enrollment.leave_at, leave)

    def plan_activity(self, sim: Simulation, enrollment: Enrollment) -> None:
        """Sessions between enrolling and leaving: videos, problems, now and then a forum post."""
        rng = sim.rng
        end = enrollment.leave_at or sim.now
        motivation = rng.random()
        sessions = int(motivation * 6) + (1 if rng.random() < 0.7 else 0)
        course = enrollment.course
        for _ in range(sessions):
            when = sim.moment(enrollment.start, end)
            enrollment.last_seen = max(enrollment.last_seen or when, when)
            if rng.random() < 0.85:
                video = rng.choice(course.videos)
                self.plan_video(sim, enrollment, video.block, video.duration, when, motivation)
                when += dt.timedelta(minutes=rng.randint(3, 12))
            if rng.random() < 0.6:
                self.plan_problem(sim, enrollment, rng.choice(course.attempted_problems), when)
            if rng.random() < 0.08:
                kind = rng.choice(("edx.forum.thread.created", "edx.forum.response.created",
                                   "edx.forum.comment.created"))
                sim.at(when + dt.timedelta(minutes=1), self.tracking(
                    enrollment, when + dt.timedelta(minutes=1), kind,
                    {"id": f"{rng.getrandbits(48):012x}", "commentable_id": "general", "anonymous": False},
                    event_source="server"))

    def plan_video(self, sim: Simulation, enrollment: Enrollment, block: str, duration: int,
                   when: dt.datetime, motivation: float) -> None:
        """Play from the start (or resume), maybe skip ahead, pause where attention ran out."""
        rng = sim.rng
        base = {"id": block, "code": "html5", "duration": duration}
        position = 0.0 if rng.random() < 0.8 else round(rng.uniform(0, duration * 0.5), 1)
        sim.at(when, self.tracking(enrollment, when, "play_video", {**base, "currentTime": position}))
        watched = duration * min(1.0, rng.betavariate(1 + 3 * motivation, 1.5))
        if rng.random() < 0.25:
            jump_from = position + watched * 0.3
            jump_to = min(duration - 1, jump_from + rng.uniform(10, duration * 0.4))
            t = when + dt.timedelta(seconds=watched * 0.3)
            sim.at(t, self.tracking(enrollment, t, "seek_video",
                                    {**base, "old_time": round(jump_from, 1), "new_time": round(jump_to, 1),
                                     "type": "onSlideSeek"}))
            t2 = t + dt.timedelta(seconds=1)
            sim.at(t2, self.tracking(enrollment, t2, "play_video", {**base, "currentTime": round(jump_to, 1)}))
            position = jump_to
            watched *= 0.7
        stop = min(duration, position + watched)
        t = when + dt.timedelta(seconds=max(stop - position, 1) + 2)
        name = "stop_video" if stop >= duration - 0.5 else "pause_video"
        sim.at(t, self.tracking(enrollment, t, name, {**base, "currentTime": round(stop, 1)}))

    def plan_problem(self, sim: Simulation, enrollment: Enrollment, problem: Problem, when: dt.datetime) -> None:
        """One to three graded submissions, stopping at the right answer."""
        rng = sim.rng
        previous = enrollment.answers.get(problem.block)
        attempts = previous[0] if previous else 0
        if previous and previous[2]:
            return  # already solved
        course = enrollment.course
        usage_key = str(course.key.make_usage_key("problem", problem.block))
        part = f"{problem.block}_2_1"
        for _ in range(rng.randint(1, 3)):
            attempts += 1
            correct = rng.random() < problem.difficulty + 0.15 * (attempts - 1)
            choice = problem.answer if correct else rng.choice(
                [i for i in range(len(problem.choices)) if i != problem.answer])
            value = f"choice_{choice}"
            data = {
                "problem_id": usage_key, "attempts": attempts, "grade": 1 if correct else 0, "max_grade": 1,
                "success": "correct" if correct else "incorrect", "answers": {part: value},
                "correct_map": {part: {"correctness": "correct" if correct else "incorrect"}},
                "submission": {part: {"question": problem.question, "answer": problem.choices[choice],
                                      "correct": correct, "variant": "",
                                      "response_type": "multiplechoiceresponse", "input_type": "choicegroup"}},
                "state": {"seed": 1},
            }
            sim.at(when, self.tracking(enrollment, when, "problem_check", data, event_source="server",
                                       page="x_module", module={"usage_key": usage_key,
                                                                "display_name": problem.name}))
            enrollment.answers[problem.block] = (attempts, value, correct, when)
            enrollment.last_seen = max(enrollment.last_seen or when, when)
            if correct:
                break
            when += dt.timedelta(minutes=rng.randint(1, 20))
            if when > sim.now:
                break

    def plan_grade(self, sim: Simulation, enrollment: Enrollment) -> None:
        """A course grade after the last problem; a certificate for verified/honor learners who pass."""
        if not enrollment.answers:
            return
        course = enrollment.course
        solved = sum(1 for _a, _v, correct, _t in enrollment.answers.values() if correct)
        # Out of the problems tried, but at least half the course's: few problems solved is a low grade.
        percent = round(solved / max(len(enrollment.answers), -(-len(course.attempted_problems) // 2)), 2)
        when = max(t for *_rest, t in enrollment.answers.values()) + dt.timedelta(seconds=30)
        if when > sim.now:
            return
        passed = percent >= course.passing
        enrollment.grade = (percent, when if passed else None)

        def grade() -> None:
            signals.PERSISTENT_GRADE_SUMMARY_CHANGED.send_event(time=when, grade=ev.PersistentCourseGradeData(
                user_id=enrollment.user.id, course=_course_data(course), course_edited_timestamp=sim.now,
                course_version="demo", grading_policy_hash="demo", percent_grade=percent,
                letter_grade="Pass" if passed else "", passed_timestamp=when if passed else None))
        sim.at(when, grade)
        final_mode = "verified" if enrollment.upgrade_at and enrollment.upgrade_at <= when else enrollment.mode
        if passed and final_mode in ("verified", "honor") and not (enrollment.leave_at and enrollment.leave_at < when):
            cert_time = when + dt.timedelta(minutes=5)
            enrollment.certificate = (final_mode, cert_time)

            def certificate() -> None:
                signals.CERTIFICATE_CREATED.send_event(time=cert_time, certificate=ev.CertificateData(
                    user=_user_data(enrollment.user), course=_course_data(course), mode=final_mode,
                    grade=str(percent), download_url="", name=enrollment.user.get_full_name(),
                    current_status="downloadable"))
            sim.at(cert_time, certificate)

    # ------------------------------------------------------------ the doors

    def send_enrollment(self, signal: Any, enrollment: Enrollment, mode: str, is_active: bool,
                        when: dt.datetime) -> None:
        """Update the stub enrollment (its history row dated ``when``) and send the LMS signal."""
        row = lms.CourseEnrollment.objects.filter(user=enrollment.user, course_id=enrollment.course.key).first()
        if row is None:
            row = lms.CourseEnrollment(user=enrollment.user, course_id=enrollment.course.key, created=when)
        row.mode, row.is_active, row._history_date = mode, is_active, when
        row.save()
        signal.send_event(time=when, enrollment=ev.CourseEnrollmentData(
            user=_user_data(enrollment.user), course=_course_data(enrollment.course), mode=mode,
            is_active=is_active, creation_date=enrollment.start))

    def tracking(self, enrollment: Enrollment, when: dt.datetime, name: str, data: dict[str, Any],
                 event_source: str = "browser", **context: Any) -> Any:
        """A thunk that emits one tracking event at ``when`` in the course context the LMS sets."""
        course = enrollment.course

        def emit() -> None:
            current = tracker.get_tracker()
            ctx = {"user_id": enrollment.user.id, "username": enrollment.user.username,
                   "course_id": course.course_id, "org_id": course.key.org, "event_source": event_source,
                   "path": f"/courses/{course.course_id}/courseware", **context}
            with current.context("edx.demo.session", ctx):
                # What ``tracker.emit`` builds, with the simulated time instead of now.
                event = {"name": name, "timestamp": when, "data": data, "context": current.resolve_context()}
                current.routing_backend.send(event)
        return emit

    # ------------------------------------------------------------ LMS state and summary

    def write_lms_state(self, sim: Simulation) -> None:
        """The LMS rows matching what was sent: last problem states, grades, certificates."""
        modules, grades, certificates = [], [], []
        for enrollment in sim.enrollments:
            course = enrollment.course
            for block, (attempts, value, correct, when) in enrollment.answers.items():
                part = f"{block}_2_1"
                state = {"attempts": attempts, "seed": 1, "student_answers": {part: value},
                         "correct_map": {part: {"correctness": "correct" if correct else "incorrect"}}}
                modules.append(lms.StudentModule(
                    module_type="problem", student=enrollment.user, course_id=course.key,
                    module_state_key=course.key.make_usage_key("problem", block), state=json.dumps(state),
                    grade=1.0 if correct else 0.0, max_grade=1.0, created=when, modified=when))
            if enrollment.grade is not None:
                percent, passed_at = enrollment.grade
                grades.append(lms.PersistentCourseGrade(
                    user_id=enrollment.user.id, course_id=course.key, percent_grade=percent,
                    letter_grade="Pass" if passed_at else "", passed_timestamp=passed_at,
                    modified=passed_at or enrollment.last_seen or sim.now))
            if enrollment.certificate is not None:
                mode, when = enrollment.certificate
                certificates.append(lms.GeneratedCertificate(
                    user=enrollment.user, course_id=course.key, status="downloadable", mode=mode,
                    created_date=when, modified_date=when))
        lms.StudentModule.objects.bulk_create(modules, batch_size=500)
        lms.PersistentCourseGrade.objects.bulk_create(grades, batch_size=500)
        lms.GeneratedCertificate.objects.bulk_create(certificates, batch_size=500)

    def print_summary(self) -> None:
        """One line per course, read back through the public Python API."""
        from openedx_analytics import api

        ids = [c.course_id for c in COURSES]
        names = {c.course_id: c.name for c in COURSES}
        self.stdout.write("")
        self.stdout.write(f"{'course':<62} {'enrolled':>8} {'ever':>5} {'passing':>7} {'certs':>5} "
                          f"{'videos':>6} {'problems':>8} {'active days':>11}")
        for summary in api.get_course_summaries(ids):
            course_id = summary["course_id"]
            days = sum(1 for row in api.get_activity(course_id, granularity="day") if row["any"])
            label = f"{names.get(course_id, '')} ({course_id})"
            self.stdout.write(
                f"{label:<62} {summary['count']:>8} {summary['cumulative_count']:>5} "
                f"{summary['passing_users']:>7} {summary['certificates']:>5} {len(api.get_videos(course_id)):>6} "
                f"{len(api.get_problems(course_id)):>8} {days:>11}"
            )
        by_mode: dict[str, int] = defaultdict(int)
        for summary in api.get_course_summaries(ids):
            for mode, figures in summary["enrollment_modes"].items():
                by_mode[mode] += figures.get("count", 0) if isinstance(figures, dict) else int(figures)
        self.stdout.write(f"Enrolled by mode, all demo courses: {dict(sorted(by_mode.items()))}")
        if not any(summary["cumulative_count"] for summary in api.get_course_summaries(ids)):
            raise CommandError("the demo courses have no figures: the events did not reach the aggregates "
                               "(see the errors logged above)")
