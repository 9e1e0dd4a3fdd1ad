"""Stub LMS models (filled in by the compat layer's work)."""
