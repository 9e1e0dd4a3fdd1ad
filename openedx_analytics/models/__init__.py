"""Models of openedx-analytics: facts (what happened), dirty scopes (what to recompute), aggregates (what we serve)."""
from openedx_analytics.models.aggregates import (
    ActivityDay,
    ActivityWeek,
    CourseGrades,
    EnrollmentDay,
    ProblemAnswer,
    ProblemSummary,
    VideoSegment,
    VideoSummary,
)
from openedx_analytics.models.config import AnalyticsConfiguration, CourseAnalyticsOverride
from openedx_analytics.models.facts import (
    ActivityFact,
    CertificateFact,
    EnrollmentFact,
    GradeFact,
    PassingFact,
    ProblemSubmissionFact,
    VideoEventFact,
    VideoViewer,
)
from openedx_analytics.models.operations import (
    BackfillCheckpoint,
    DirtyScope,
    RejectedEventSample,
    RejectionCount,
    ScopeLock,
)

__all__ = [
    "AnalyticsConfiguration",
    "BackfillCheckpoint",
    "CourseAnalyticsOverride",
    "ActivityDay",
    "ActivityFact",
    "ActivityWeek",
    "CertificateFact",
    "CourseGrades",
    "DirtyScope",
    "EnrollmentDay",
    "EnrollmentFact",
    "GradeFact",
    "PassingFact",
    "ProblemAnswer",
    "ProblemSubmissionFact",
    "ProblemSummary",
    "RejectedEventSample",
    "RejectionCount",
    "ScopeLock",
    "VideoEventFact",
    "VideoSegment",
    "VideoSummary",
    "VideoViewer",
]
