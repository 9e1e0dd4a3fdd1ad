"""Stand-ins for the LMS's learner-retirement signals (``openedx.core.djangoapps.user_api.accounts.signals``).

Plain Django signals with the LMS's names, sent with ``user=`` as the LMS's retirement API
views send them, so ``openedx_analytics.lms.retirement_signals`` hands the plugin the same kind of object
inside the LMS and in the test and demo host.
"""
from django.dispatch import Signal

#: Sent by the LMS's retirement API at the step where apps delete their own learner data.
USER_RETIRE_LMS_MISC = Signal()
#: Sent by the LMS's retirement API for the learner data whose deletion must not fail.
USER_RETIRE_LMS_CRITICAL = Signal()
