"""Database access: one engine per process, named transactions, retries on contention.

Everything Cognate knows lives in the database, so that any number of processes can
serve one deployment. Callers run small functions inside a named transaction:

    pool = db.read("describe_user_pool", lambda conn: pools.get(conn, pool_id))
    db.write("create_user_pool", lambda conn: pools.insert(conn, row))

On SQLite, the writers of one process also take a process-wide lock before `BEGIN
IMMEDIATE`: SQLite admits one writer at a time anyway, and queueing on a lock is fair and
immediate, where queueing in SQLite's busy handler means sleeping and polling (which
turned into half-second tails under load). Other processes sharing the file still wait
in the busy handler.

The hottest reads skip SQLAlchemy's execution layer: `fetch` runs one prebuilt SELECT,
compiled once per statement for the engine's dialect, straight on a pooled driver
connection outside any transaction (a sixth of the cost of `Connection.execute` for the
same statement, which matters when the statement itself takes 10 µs).

`write` retries the whole function when the database reports contention (SQLite's
"database is locked", PostgreSQL's serialization failures and deadlocks), so the function
must not have side effects outside the transaction. After the retries it raises
`TooManyRequestsException`, which SDKs retry on their own.

SQLite (the embedded default) runs in WAL mode with foreign keys on. pysqlite's own
transaction handling is switched off and transactions are begun explicitly: writers use
`BEGIN IMMEDIATE` so they queue on the write lock up front instead of failing to upgrade
a read lock halfway through (SQLAlchemy's documented pysqlite recipe). PostgreSQL runs
through psycopg 3 at READ COMMITTED; code that must not lose a concurrent update locks
the row (`SELECT ... FOR UPDATE`, which SQLite ignores and does not need).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from cognate.api.exceptions import TooManyRequestsException

log = logging.getLogger(__name__)

T = TypeVar("T")

_WRITE_OPTION = "cognate_write"
_MAX_ATTEMPTS = 8
_PG_POOL_SIZE = 10


Fetch = Callable[[Any, Mapping[str, Any]], list[Any]]
"""`Database.fetch`: (prebuilt SELECT, parameters) -> rows with attribute access by label."""


class DatabaseUrlError(ValueError):
    """The configured database URL is not one Cognate can use."""


def normalize_url(url: str) -> str:
    """Map the user-facing URL forms onto SQLAlchemy driver URLs."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("postgresql+psycopg://", "sqlite:///", "sqlite+pysqlite:///")):
        return url
    raise DatabaseUrlError(
        f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://USER@HOST/DB"
    )


def sqlite_path(url: str) -> Path | None:
    """The file behind a sqlite URL, or None for other databases."""
    parsed = sa.engine.make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def describe(url: str) -> str:
    """Where the data lives, for humans (no password)."""
    path = sqlite_path(url)
    if path is not None:
        return f"SQLite file {path.resolve()}"
    parsed = sa.engine.make_url(normalize_url(url))
    return f"PostgreSQL {parsed.render_as_string(hide_password=True)}"


class Database:
    """The process's engine and the transaction runner used by every repository."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = normalize_url(url)
        parsed = sa.engine.make_url(self.url)
        self.dialect = parsed.get_backend_name()
        self._write_lock: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
        self._compiled: dict[int, _Compiled] = {}
        if self.dialect == "sqlite":
            self._write_lock = threading.Lock()
            path = sqlite_path(self.url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_timeout=30,
                pool_use_lifo=True,  # the few connections in use stay warm; idle ones stay cold
                connect_args={"timeout": 30, "check_same_thread": False},
                hide_parameters=True,  # no SQL parameters (secrets) in errors or logs
            )
            _install_sqlite_hooks(self.engine)
        else:
            # Connections are held only for a transaction; a small pool per process keeps
            # several processes within PostgreSQL's default max_connections (100).
            self.engine = sa.create_engine(
                self.url,
                pool_size=min(pool_size, _PG_POOL_SIZE),
                max_overflow=min(pool_size, _PG_POOL_SIZE),
                pool_pre_ping=True,
                pool_timeout=30,
                pool_use_lifo=True,
                hide_parameters=True,
            )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def read(self, name: str, fn: Callable[[Connection], T]) -> T:
        """Run `fn` in a read-only transaction named `name`."""
        return self._run(name, fn, write=False)

    def fetch(self, statement: Any, params: Mapping[str, Any]) -> list[Any]:
        """Run one SELECT straight on the driver, outside a transaction; return its rows.

        `statement` must be built once (at import) and have no expanding parameters; the
        rows are named tuples whose fields are the statement's column labels, holding what
        the driver returns (no SQLAlchemy type processing: booleans are 0/1 on SQLite).
        """
        compiled = self._compiled_form(statement)
        args = compiled.arguments(params)
        pooled = self.engine.raw_connection()
        try:
            driver: Any = pooled.driver_connection
            if self.is_sqlite:
                rows = driver.execute(compiled.sql, args).fetchall()
            else:
                driver.autocommit = True
                try:
                    rows = driver.execute(compiled.sql, args).fetchall()
                finally:
                    driver.autocommit = False
        finally:
            pooled.close()
        make = compiled.row
        return [make(r) for r in rows]

    def driver_sql(self, statement: Any, params: Mapping[str, Any]) -> tuple[str, Any]:
        """The SQL text and driver arguments `fetch` sends for them (e.g. to EXPLAIN it)."""
        compiled = self._compiled_form(statement)
        return compiled.sql, compiled.arguments(params)

    def _compiled_form(self, statement: Any) -> _Compiled:
        compiled = self._compiled.get(id(statement))
        if compiled is None:
            compiled = self._compiled[id(statement)] = _compile(statement, self.engine)
        return compiled

    def write(self, name: str, fn: Callable[[Connection], T], *, conflicts: int = 0) -> T:
        """Run `fn` in a write transaction named `name`, retrying on contention.

        With `conflicts`, a unique-constraint violation also reruns `fn` (that many times):
        for functions that check uniqueness first and insert after, the rerun sees the
        concurrent writer's row and answers as the check does, while the constraint keeps
        the data right either way.
        """
        for attempt in range(conflicts + 1):
            try:
                return self._run(name, fn, write=True)
            except IntegrityError:
                if attempt == conflicts:
                    raise
                log.debug("transaction %s lost a uniqueness race; running it again", name)
        raise AssertionError("unreachable")

    def _run(self, name: str, fn: Callable[[Connection], T], *, write: bool) -> T:
        delay = 0.005
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                with self.engine.connect() as conn:
                    if not write:
                        with conn.begin():
                            return fn(conn)
                    conn = conn.execution_options(**{_WRITE_OPTION: True})
                    with self._write_lock, conn.begin():
                        return fn(conn)
            except DBAPIError as exc:
                if not _is_contention(exc) or attempt == _MAX_ATTEMPTS:
                    if _is_contention(exc):
                        log.warning("transaction %s gave up after %d attempts", name, attempt)
                        raise TooManyRequestsException("Too many requests") from exc
                    raise
                log.debug("transaction %s hit contention (attempt %d): %s", name, attempt, exc)
                time.sleep(delay * (1 + random.random()))  # noqa: S311 - jitter, not crypto
                delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement's SQL for one dialect, how to order its parameters, its row type."""

    sql: str
    required: frozenset[str]
    defaults: dict[str, Any]
    positions: tuple[str, ...] | None  # for positional paramstyles (SQLite's qmark)
    row: Callable[[Any], Any]
    statement: Any  # kept alive: the cache is keyed by its id()

    def arguments(self, params: Mapping[str, Any]) -> Any:
        values = {**self.defaults, **params}
        if not self.required <= values.keys():
            raise KeyError(f"missing statement parameters: {sorted(self.required - values.keys())}")
        if self.positions is None:
            return values
        return [values[name] for name in self.positions]


def _compile(statement: Any, engine: Engine) -> _Compiled:
    compiled = statement.compile(dialect=engine.dialect)
    if any(b.expanding for b in compiled.binds.values()):
        raise ValueError("Database.fetch cannot run statements with expanding parameters")
    # Literal values the statement holds (e.g. the 1 of substr(x, 1, n)) are bound too.
    defaults = {name: b.effective_value for name, b in compiled.binds.items() if not b.required}
    positions = tuple(compiled.positiontup) if compiled.positional else None
    fields = list(statement.selected_columns.keys())
    row_type = collections.namedtuple("FetchedRow", fields)  # type: ignore[misc]
    required = frozenset(name for name, b in compiled.binds.items() if b.required)
    return _Compiled(compiled.string, required, defaults, positions, row_type._make, statement)


def _is_contention(exc: DBAPIError) -> bool:
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig).lower()
        return "locked" in text or "busy" in text
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("40001", "40P01", "55P03"):
        return True
    return isinstance(exc, OperationalError) and sqlstate is None and "locked" in str(orig)


_SQLITE_CACHE_KIB = 256


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite; "begin" below issues BEGIN itself.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        # Each connection keeps its own page cache (SQLite's default: 2 MiB), and a process
        # may open 2 x threads of them: 160 MiB that fill as the file grows. The operating
        # system caches the file anyway, so a small one costs nothing measurable (soak
        # benchmark: same throughput) and bounds memory at ~20 MiB per process.
        cursor.execute(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
