"""ListUsers' queries use their indexes on SQLite, even before the planner has statistics
(a fresh database has none; a scan would make filtered pages grow with the pool)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from cognate.storage import migrate
from cognate.storage.db import Database, Fetch
from cognate.storage.repos import user_search


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path}/plans.db", pool_size=1)
    migrate.upgrade(database)
    return database


def plan_of(db: Database, run: Callable[[Fetch], object]) -> str:
    """SQLite's plan for the statement `run` sends through `Database.fetch`."""
    sent: list[tuple[str, object]] = []

    def fetch(statement: object, params: Mapping[str, object]) -> list[object]:
        sent.append(db.driver_sql(statement, params))
        return db.fetch(statement, params)

    run(fetch)
    statement, arguments = sent[0]
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, tuple(arguments)).all()
    return "\n".join(str(row[-1]) for row in rows)


def page_part(plan: str) -> str:
    """The plan of the page itself (what comes before the join to the page's attributes)."""
    return plan.split("SCAN anon_1")[0]


def no_table_scans(plan: str) -> bool:
    return not any(line.startswith("SCAN ") and "anon_" not in line for line in plan.splitlines())


def test_attribute_filters_scan_the_search_index(db: Database) -> None:
    exact = plan_of(
        db, lambda c: user_search.by_attribute(c, 1, "email", "a@x", "a@x", False, 0, 10)
    )
    assert "USING COVERING INDEX ix_user_attributes_search" in page_part(exact)
    assert "TEMP B-TREE" not in page_part(exact)  # already in key order: no sort
    assert no_table_scans(exact)
    prefix = plan_of(db, lambda c: user_search.by_attribute(c, 1, "email", "a", "a", True, 0, 10))
    assert "USING COVERING INDEX ix_user_attributes_search" in page_part(prefix)
    assert no_table_scans(prefix)


def test_status_and_username_filters_use_indexes(db: Database) -> None:
    for run in (
        lambda c: user_search.by_status(c, 1, ["CONFIRMED"], 0, 10),
        lambda c: user_search.by_username(c, 1, "a", False, 0, 10),
        lambda c: user_search.by_enabled(c, 1, [False], 0, 10),
        lambda c: user_search.all_users(c, 1, 0, 10),
    ):
        plan = plan_of(db, run)
        assert "USING" in page_part(plan)
        assert no_table_scans(plan)
