"""The shape of every REST API row, with field meanings (source of the OpenAPI schema).

Views return the Python API's plain dicts directly (fast for a year of daily rows); a
test checks each response against these serializers, so the schema and the wire agree.
"""
from __future__ import annotations

from rest_framework import serializers


class ModeFiguresSerializer(serializers.Serializer):
    """Enrollment figures of one mode."""

    count = serializers.IntegerField(help_text="Learners enrolled in this mode at the end of the latest day.")
    cumulative_count = serializers.IntegerField(
        help_text="Learners ever enrolled whose mode at the end of the latest day is this mode.")


class CourseSummarySerializer(serializers.Serializer):
    """Summary figures of one course."""

    course_id = serializers.CharField()
    count = serializers.IntegerField(help_text="Learners enrolled at the end of the latest day.")
    cumulative_count = serializers.IntegerField(help_text="Learners ever enrolled (unenrolling does not lower it).")
    count_change_7_days = serializers.IntegerField(help_text="count on the latest day minus count 7 days earlier.")
    enrollment_modes = serializers.DictField(child=ModeFiguresSerializer(), help_text="Figures per mode.")
    passing_users = serializers.IntegerField(help_text="Learners whose course passing status is passing.")
    certificates = serializers.IntegerField(help_text="Downloadable certificates (revoked ones excluded).")
    active_last_week = serializers.IntegerField(
        help_text="Distinct learners with any course activity in the last complete ISO week.")
    last_updated = serializers.DateTimeField(allow_null=True, help_text="When these figures were last recomputed.")


class CourseRowSerializer(CourseSummarySerializer):
    """Summary figures of one course in the course list, with the link to its own endpoints."""

    summary_url = serializers.URLField(
        help_text="The course's summary/ endpoint; its other endpoints are siblings (enrollment/, videos/, ...).")


class CoursePageSerializer(serializers.Serializer):
    """One page of the course list (a CSV download carries every row, unpaged)."""

    count = serializers.IntegerField(help_text="Courses in the whole list.")
    next = serializers.URLField(allow_null=True, help_text="The next page, if any.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, if any.")
    results = CourseRowSerializer(many=True)


class EnrollmentDaySerializer(serializers.Serializer):
    """Enrollment of a course at the end of one UTC day."""

    date = serializers.DateField()
    count = serializers.IntegerField(help_text="Learners enrolled at the end of the day.")
    cumulative_count = serializers.IntegerField(help_text="Learners ever enrolled up to the end of the day.")
    audit = serializers.IntegerField(help_text="Learners enrolled in this mode at the end of the day.")
    verified = serializers.IntegerField(help_text="Learners enrolled in this mode at the end of the day.")
    honor = serializers.IntegerField(help_text="Learners enrolled in this mode at the end of the day.")
    professional = serializers.IntegerField(
        help_text="Learners enrolled in professional (or no-id-professional) mode at the end of the day.")
    credit = serializers.IntegerField(help_text="Learners enrolled in this mode at the end of the day.")
    masters = serializers.IntegerField(help_text="Learners enrolled in this mode at the end of the day.")
    enrollments = serializers.IntegerField(help_text="Activations during the day.")
    unenrollments = serializers.IntegerField(help_text="Deactivations during the day.")
    partial = serializers.BooleanField(help_text="True for today, which is not over yet.")


ACTIVITY_HELP = {
    "any": "Distinct learners with any course event (enrollment and background events excluded).",
    "attempted_problem": "Distinct learners who submitted a problem.",
    "played_video": "Distinct learners who played a video.",
    "posted_forum": "Distinct learners who created a forum thread, response or comment.",
}


class ActivityWeekSerializer(serializers.Serializer):
    """Active learners of a course in one ISO week (the default granularity)."""

    interval_start = serializers.DateField(help_text="Monday of the week.")
    interval_end = serializers.DateField(help_text="The following Monday (exclusive).")
    any = serializers.IntegerField(help_text=ACTIVITY_HELP["any"])
    attempted_problem = serializers.IntegerField(help_text=ACTIVITY_HELP["attempted_problem"])
    played_video = serializers.IntegerField(help_text=ACTIVITY_HELP["played_video"])
    posted_forum = serializers.IntegerField(help_text=ACTIVITY_HELP["posted_forum"])
    partial = serializers.BooleanField(help_text="True for the current week, which is not over yet.")


class ActivityDaySerializer(serializers.Serializer):
    """Active learners of a course on one UTC day (``?granularity=day``)."""

    date = serializers.DateField()
    any = serializers.IntegerField(help_text=ACTIVITY_HELP["any"])
    attempted_problem = serializers.IntegerField(help_text=ACTIVITY_HELP["attempted_problem"])
    played_video = serializers.IntegerField(help_text=ACTIVITY_HELP["played_video"])
    posted_forum = serializers.IntegerField(help_text=ACTIVITY_HELP["posted_forum"])
    partial = serializers.BooleanField(help_text="True for today, which is not over yet.")


class VideoSerializer(serializers.Serializer):
    """Figures of one video of a course."""

    video_id = serializers.CharField(help_text="The video's usage key where one can be built, else its id.")
    duration = serializers.IntegerField(help_text="Seconds: the largest duration reported, or inferred.")
    duration_inferred = serializers.BooleanField(help_text="True when no event reported the duration.")
    segment_length = serializers.IntegerField(help_text="Seconds per timeline segment (5).")
    users_at_start = serializers.IntegerField(help_text="Distinct learners who watched the first segment.")
    users_at_end = serializers.IntegerField(help_text="Distinct learners who watched the segment near the end.")
    views = serializers.IntegerField(help_text="Viewings (a play to the next pause, stop or seek).")
    timeline_url = serializers.URLField(help_text="This video's timeline/ endpoint (the id quoted for a URL).")


class SegmentSerializer(serializers.Serializer):
    """Viewers of one segment of a video."""

    segment = serializers.IntegerField(help_text="Segment number: seconds floor-divided by segment_length.")
    num_users = serializers.IntegerField(help_text="Distinct learners who watched this segment.")
    num_views = serializers.IntegerField(help_text="Viewings that touched this segment.")


class ProblemSerializer(serializers.Serializer):
    """Submission figures of one problem (correctness is judged on each learner's last submission)."""

    problem_id = serializers.CharField(help_text="The problem's usage key.")
    part_ids = serializers.ListField(child=serializers.CharField(), help_text="Response parts seen.")
    users_attempted = serializers.IntegerField(help_text="Distinct learners who submitted.")
    total_submissions = serializers.IntegerField(help_text="Every submission (each attempt of each learner).")
    correct_submissions = serializers.IntegerField(
        help_text="Learners whose last submission was correct (partial credit counts).")
    first_attempt_correct = serializers.IntegerField(help_text="Learners whose first submission was correct.")
    attempts_mean = serializers.FloatField(help_text="Mean attempts per learner who submitted.")
    answers_url = serializers.URLField(help_text="This problem's answers/ endpoint (the id quoted for a URL).")


class AnswerSerializer(serializers.Serializer):
    """How many learners' last answer to a problem part was this value."""

    part_id = serializers.CharField()
    answer_value = serializers.CharField(help_text="The answer, HTML stripped; several choices as [a|b].")
    correct = serializers.BooleanField(allow_null=True, help_text="Whether this answer is correct (null: unknown).")
    count = serializers.IntegerField(help_text="Learners whose last answer this was.")
    variant = serializers.CharField(allow_blank=True, help_text="Seed of a randomized problem, else empty.")


class AnswerPageSerializer(serializers.Serializer):
    """One page of a problem's answers, most given first per part (a CSV download streams every row, unpaged)."""

    count = serializers.IntegerField(help_text="Answer rows of the whole problem, every part.")
    next = serializers.URLField(allow_null=True, help_text="The next page, if any.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, if any.")
    results = AnswerSerializer(many=True)


class GradeBucketSerializer(serializers.Serializer):
    """Currently enrolled learners whose course grade falls in a tenth (learners not graded yet are in none)."""

    bucket = serializers.CharField(help_text="Grade percent range, e.g. 70-79 (90-100 for the top).")
    count = serializers.IntegerField()


class GradesSerializer(serializers.Serializer):
    """Grade distribution, passing learners and certificates of a course."""

    course_id = serializers.CharField()
    buckets = GradeBucketSerializer(many=True)
    not_graded = serializers.IntegerField(help_text="Learners enrolled now whom the LMS has not graded yet "
                                                    "(in no bucket).")
    passing_users = serializers.IntegerField(help_text="Learners whose course passing status is passing, "
                                                       "including learners who have since unenrolled.")
    certificates = serializers.DictField(child=serializers.IntegerField(),
                                         help_text="Downloadable certificates per mode.")
    last_updated = serializers.DateTimeField(allow_null=True, help_text="When these figures were last recomputed.")


class OutlineParentSerializer(serializers.Serializer):
    """The row chosen one level up in a drill-down."""

    id = serializers.CharField(help_text="Its id: a usage key, an assignment type or a tag value.")
    name = serializers.CharField(help_text="Its display name.")


class OutlineLevelSerializer(serializers.Serializer):
    """One level of a drill-down through the course outline (as CSV: its rows)."""

    course_id = serializers.CharField()
    level = serializers.CharField(help_text="What the rows are: section, subsection, video, assignment_type, "
                                            "assignment, problem or tag.")
    parent = OutlineParentSerializer(allow_null=True, help_text="The row chosen one level up (null at the top).")
    rows = serializers.ListField(child=serializers.DictField(), help_text=(
        "In course order (assignment types: the grading policy's). Videos: id, name, videos, complete_views, "
        "start_only_views (section and subsection rows: averages over their videos). Problems: id, name, "
        "problems, correct, incorrect (group rows: averages over their problems); assignment types add "
        "weight and assignments."))
    last_updated = serializers.DateTimeField(allow_null=True, help_text="When these figures were last recomputed.")


class ContentPartSerializer(serializers.Serializer):
    """Distinct learners of one section, subsection or unit over the range (one CSV row each)."""

    block_id = serializers.CharField(help_text="The part's usage key (its parts: ?parent=<block_id>).")
    display_name = serializers.CharField()
    viewed = serializers.IntegerField(help_text="Learners with any event on a page or block of this part.")
    played_video = serializers.IntegerField(help_text="Learners who played one of its videos.")
    attempted_problem = serializers.IntegerField(help_text="Learners who submitted one of its problems.")
    viewed_share = serializers.FloatField(allow_null=True, help_text="viewed / enrolled (null: none enrolled).")
    played_video_share = serializers.FloatField(allow_null=True, help_text="played_video / enrolled.")
    attempted_problem_share = serializers.FloatField(allow_null=True, help_text="attempted_problem / enrolled.")


class ContentEngagementSerializer(serializers.Serializer):
    """Engagement by content: one level of the outline, its parts' distinct learners over a range of days."""

    course_id = serializers.CharField()
    start_date = serializers.DateField(help_text="First day counted (without dates: 27 days before today).")
    end_date = serializers.DateField(help_text="First day not counted (without dates: tomorrow).")
    parent = serializers.CharField(allow_null=True, help_text="The section or subsection whose parts these are.")
    level = serializers.ChoiceField(choices=["chapter", "sequential", "vertical"],
                                    help_text="chapter: sections; sequential: subsections; vertical: units.")
    enrolled = serializers.IntegerField(help_text="Learners enrolled at the end of the range's last day.")
    parts = ContentPartSerializer(many=True)
    computed_at = serializers.DateTimeField(help_text="When these counts were read from the stored facts.")


class SiteActivityWeekSerializer(serializers.Serializer):
    """Distinct learners active in any of the caller's courses in one ISO week."""

    interval_start = serializers.DateField(help_text="Monday of the week.")
    interval_end = serializers.DateField(help_text="The following Monday (exclusive).")
    any = serializers.IntegerField(help_text="Learners active in at least one of the courses that week, each once.")
    partial = serializers.BooleanField(help_text="True for the current week, which is not over yet.")
