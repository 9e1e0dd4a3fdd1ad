"""Database mechanics every layer above shares: bulk writes, SQL literals, and the one classifier of database errors.

Nothing here knows a metric or an event: it knows MySQL/MariaDB, SQLite and PostgreSQL,
and how a write that met an error should be treated.
"""
