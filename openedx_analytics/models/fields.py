"""Model fields of ids compared byte for byte on every database (course, block, part and scope ids).

MySQL's and MariaDB's default collations ignore case, while the LMS compares ids, roles and
orgs as strings: ``course-v1:org+X+1`` and ``course-v1:Org+X+1`` are two courses, ``Vid`` and
``vid`` two videos. Stored with a case-insensitive collation they would be one row to every
query, unique constraint and ``GROUP BY``, so one course's figures could be read, or
overwritten, through the other's id. SQLite (and PostgreSQL) compare text exactly already.
"""
from __future__ import annotations

from typing import Any

from django.db import models

#: The binary collation of MySQL's and MariaDB's ``utf8mb4``: compares code points, so case counts.
#: Given alone it also makes the column ``utf8mb4`` (whatever the table's character set).
BINARY_COLLATION = "utf8mb4_bin"


class CaseSensitiveCharField(models.CharField):
    """A ``CharField`` whose text compares case-sensitively on MySQL/MariaDB too (``utf8mb4_bin``).

    The collation is given to MySQL only: other databases compare text exactly by default
    and have no collation of that name. An explicit ``db_collation`` still wins.
    """

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        """The column's type and, on MySQL/MariaDB, the binary collation."""
        params = super().db_parameters(connection)
        if connection.vendor == "mysql" and not params.get("collation"):
            params["collation"] = BINARY_COLLATION
        return params
