"""The one flow every event takes: envelope -> normalize -> facts -> dirty scopes -> aggregates."""
