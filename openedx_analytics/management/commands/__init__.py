"""backfill_analytics and verify_analytics."""
