"""Engines, transactions and migrations.

SQLite is the embedded default: WAL, a busy timeout and foreign keys on every connection,
and write transactions opened with `BEGIN IMMEDIATE`, because a deferred transaction that
reads and then writes can fail with SQLITE_BUSY whatever the timeout. PostgreSQL uses the
same code and the same migrations. Alembic is imported only when a migration has to run:
a database already at the head the migration files name opens without it.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, Executable, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from bot.store._writers import WriterLock, begin_immediate
from bot.store.probe import script_heads

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
Row = TypeVar("Row")
# PostgreSQL connections per process: enough for every thread that holds one at once (the
# turn threads, the inbox's group commit, the event loop's executor, the scheduler), so
# that the acknowledgement path never queues for a connection behind turns.
POOL_SIZE = 10
POOL_OVERFLOW = 10


def make_engine(url: str, echo: bool = False) -> Engine:
    """An engine for `url`, configured for Crossbot's transaction discipline."""
    # hide_parameters: statement parameters (client names, notes) never reach a log line or
    # an exception message, whatever the log level.
    if not url.startswith("sqlite"):
        # LIFO: the connections in use stay few and warm (psycopg prepares a statement on
        # its connection after five runs), the others idle.
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            pool_use_lifo=True,
        )
        event.listen(engine, "checkout", _pinger(engine.dialect))
        return engine
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    else:
        _ensure_parent(url)
    engine = create_engine(url, echo=echo, hide_parameters=True, **kwargs)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _pinger(dialect: Any) -> Any:
    """A checkout listener that pings the connection (the server may have restarted or
    failed over, or a firewall dropped it): a dead one is replaced before use.

    In place of `pool_pre_ping`, whose ping outside autocommit began a transaction (a
    reader's autocommit could then not be set) and whose rollback made psycopg drop its
    prepared statements. Every checkout, not only after an idle spell: the inbox worker
    keeps a replica's connections in use, so after a failover the connections used a
    moment ago are the dead ones (tests/slack/test_replicas.py)."""

    def ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        # In autocommit, for the ping alone: one round trip. Outside it, the driver sent
        # BEGIN before the SELECT and the ping needed a COMMIT after it (not a rollback,
        # which makes psycopg drop its prepared statements): three, on every checkout.
        autocommit = dbapi_connection.autocommit
        try:
            dbapi_connection.autocommit = True
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError() from exc
            raise
        finally:
            with contextlib.suppress(dialect.loaded_dbapi.Error):  # a dead one is dropped
                dbapi_connection.autocommit = autocommit

    return ping


def _ensure_parent(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN out of pysqlite's hands so that _begin_sqlite_transaction decides its kind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    options = connection.get_execution_options()
    kind = options.get("sqlite_begin", "IMMEDIATE")
    if kind == "IMMEDIATE":
        raw = connection.connection.dbapi_connection
        if begin_immediate(raw, BUSY_TIMEOUT_MS, bool(options.get(_PRIORITY))):
            return  # polled for the write lock (see bot/store/_writers.py)
    connection.exec_driver_sql(f"BEGIN {kind}")


# A statement that changes the person table (whatever wrote it: the ORM, Core, a load).
_PERSON_WRITE = re.compile(
    r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?person"?[\s(]', re.I
)
_PERSON_WRITTEN = "crossbot.person_written"
_PRIORITY = "crossbot_priority"


class Store:
    """The database: an engine plus the two kinds of transaction Crossbot uses.

    `people_version` changes whenever this process writes to the person table (at the
    statement and again at its commit), so per-process caches of people know when to forget.
    """

    def __init__(self, url: str = "sqlite://", *, migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._reader = self.engine.execution_options(sqlite_begin="DEFERRED")
        # Reads need no transaction on PostgreSQL: at READ COMMITTED every statement has its
        # own snapshot anyway (reads that must agree are one statement). It saves BEGIN and
        # ROLLBACK, two round trips, and the ROLLBACK also made psycopg drop its prepared
        # statements, so that none was ever prepared.
        self._reads_autocommit = not url.startswith("sqlite")
        if self._reads_autocommit:
            self._reader = self._reader.execution_options(isolation_level="AUTOCOMMIT")
        self._priority = self.engine.execution_options(**{_PRIORITY: True})
        self._people_writes = itertools.count(1)
        self._writers = WriterLock() if url.startswith("sqlite") else None
        # An in-memory database is one connection shared by every thread (StaticPool):
        # readers must take turns with writers too, or their transactions interleave.
        self._readers_wait = url in ("sqlite://", "sqlite:///:memory:")
        self.people_version = 0
        event.listen(self.engine, "before_cursor_execute", self._saw_statement)
        event.listen(self.engine, "commit", self._saw_end)
        event.listen(self.engine, "rollback", self._saw_end)
        if migrate:
            upgrade(self.engine)

    def _saw_statement(
        self, conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        if _PERSON_WRITE.match(statement):
            conn.info[_PERSON_WRITTEN] = True
            self.people_version = next(self._people_writes)

    def _saw_end(self, conn: Any) -> None:
        # Readers that looked between the statement and the commit saw the old rows. A
        # connection lost mid-transaction has no info to ask (it raises): forget anyway.
        if conn.invalidated or conn.info.pop(_PERSON_WRITTEN, False):
            self.people_version = next(self._people_writes)

    @contextmanager
    def serialised(self) -> Iterator[None]:
        """Take turns with this process's writers, for code that opens its own connections
        on our engine (slack_sdk's OAuth stores): on SQLite they must not interleave."""
        with self._turn():
            yield

    def _turn(self, priority: bool = False) -> contextlib.AbstractContextManager[None]:
        """This process's turn to write (nothing to wait for on PostgreSQL)."""
        if self._writers is None:
            return contextlib.nullcontext()
        return self._writers.held(priority)

    @contextmanager
    def one_transaction(self) -> Iterator[SharedTransaction]:
        """Every `write` in this block (in this thread) joins one transaction, committed
        when the block ends and rolled back if it raises; once a write has begun, `read`
        joins it too, so the block reads what it wrote. Each `write` is a savepoint: a
        failing one is undone alone, as its own transaction would have been.

        A turn runs in one, so that the replies it decides on are committed with the state
        it changed (`bot.outbox`). The first write takes the transaction (and, on SQLite,
        this process's write lock) until the block ends."""
        shared = SharedTransaction(self)
        token = _SHARED.set(shared)
        try:
            yield shared
            shared.end(commit=True)
        except BaseException:
            shared.end(commit=False)
            raise
        finally:
            _SHARED.reset(token)

    @contextmanager
    def write(self, priority: bool = False, *, savepoint: bool = True) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on any error.

        On SQLite, writers of this process take turns on a lock first: SQLite lets one
        writer in at a time anyway, and a thread that finds the database locked sleeps in
        SQLite's busy handler (1, 2, 5, 10... ms) long after the writer before it is done,
        while a lock wakes the next writer at once. Between processes, a writer polls for
        the file's write lock every millisecond (`bot/store/_writers.py`).

        A `priority` write (the inbox storing deliveries, which acknowledgements wait for)
        goes before the other writers of this process that are waiting, and polls for the
        file's lock more often than they do.

        In a `one_transaction` block, `savepoint=False` is for a write that cannot fail
        alone (one insert that `ON CONFLICT DO NOTHING` settles): it joins the block's
        transaction without SAVEPOINT and RELEASE, two round trips, and should it fail
        after all, the block's writes so far are undone with it.
        """
        shared = _SHARED.get()
        if shared is not None and shared.store is self:
            if shared.began and savepoint:
                with shared.session.begin_nested():
                    yield shared.session
                return
            # The block's first write needs no savepoint: nothing was written before it,
            # so undoing the whole transaction undoes it alone (and the block begins again
            # at its next write). A savepoint cost more than the write itself.
            session = shared.session
            try:
                yield session
                session.flush()  # its failures belong to it, as a savepoint's release would
            except BaseException:
                shared.end(commit=False)
                raise
            return
        bind = self._priority if priority else self.engine
        with self._turn(priority), Session(bind, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (a deferred transaction on SQLite, so readers never queue)."""
        # Closing (not rolling back) ends the transaction without expiring what was read,
        # so the objects stay usable after the block.
        shared = _SHARED.get()
        if shared is not None and shared.store is self:
            if shared.began:
                yield shared.session
                return
            if self._reads_autocommit:
                with shared.reading() as session:
                    yield session
                return
        waits = self._turn() if self._readers_wait else contextlib.nullcontext()
        with waits, Session(self._reader, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


class SharedTransaction:
    """The one transaction of a `Store.one_transaction` block, begun by its first write."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._session: Session | None = None
        self._lock: contextlib.ExitStack | None = None
        self._reader: Session | None = None
        self._reading = 0  # reads in progress on it (nested)

    @property
    def began(self) -> bool:
        """Whether anything in the block has written (the transaction is open)."""
        return self._session is not None

    @property
    def session(self) -> Session:
        """The block's session, begun (and this process's write lock taken) on first use."""
        if self._session is None:
            self._close_reader()  # reads join the transaction from now on
            lock = contextlib.ExitStack()
            lock.enter_context(self.store._turn())
            self._lock = lock
            self._session = Session(self.store.engine, expire_on_commit=False)
        return self._session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """The block's reads before its first write, on PostgreSQL: one autocommit session
        (and connection) for them all, not one each, so nothing is held between them but
        the connection. What a read loaded is detached as it ends, as a closed session's
        rows are, so that a write may add it."""
        if self._reader is None:
            self._reader = Session(self.store._reader, expire_on_commit=False)
        reader = self._reader
        self._reading += 1
        try:
            yield reader
        except BaseException:
            self._reading -= 1
            self._close_reader()  # a failed read may leave the session unusable
            raise
        self._reading -= 1
        if self._reading == 0:
            reader.expunge_all()

    def _close_reader(self) -> None:
        # Not while a read is still in its block (a write begun inside it): the block's
        # end closes it then.
        if self._reading == 0 and self._reader is not None:
            reader, self._reader = self._reader, None
            reader.close()

    def end(self, commit: bool) -> None:
        self._close_reader()
        session, lock = self._session, self._lock
        self._session = self._lock = None
        if session is None:
            return
        try:
            if commit:
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if lock is not None:
                lock.close()


# The `one_transaction` block this thread (or task) is in, if any.
_SHARED: ContextVar[SharedTransaction | None] = ContextVar("crossbot_shared_tx", default=None)


def locked(session: Session, model: type[Row], key: Any) -> Row | None:
    """The row of `model` whose primary key is `key`, locked until the transaction ends and
    read afresh (None if there is none).

    Every status move starts here: `SELECT … FOR UPDATE` on PostgreSQL makes a second press
    on another replica wait, then see the move already made (SQLite's write transactions run
    one at a time anyway). Re-reading matters as much as the lock: an object this session
    loaded earlier would otherwise keep the status from before the wait.
    """
    return session.get(model, key, with_for_update=True, populate_existing=True)


def reads_only(session: Session) -> bool:
    """Whether `session` is one of `Store.read`'s: it has written nothing, so what it reads
    was committed (or, on SQLite, stays so: a row written and rolled back there frees its
    id for the next row)."""
    return session.connection().get_execution_options().get("sqlite_begin") == "DEFERRED"


def detached(model: type[Row], values: dict[str, Any]) -> Row:
    """A `model` row built from stored column values (columns not given are None), as the
    ORM builds a row it loads, then detached, as if read in a session that has closed.

    No validation and no attribute events: the values came from the database (or were
    just written to it). A model's own constructor costs several times as much.
    """
    table = model.__table__  # type: ignore[attr-defined]
    row: Row = inspect(model).class_manager.new_instance()
    row.__dict__.update(dict.fromkeys(table.columns.keys()), **values)
    make_transient_to_detached(row)
    return row


def new_values(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """The columns of a new `model` row for a Core insert: `values`, and the model's own
    defaults for the rest (its id left to the database). What `model(**values).model_dump()`
    gives, without the constructor's validation and instrumentation, which cost more than
    the INSERT."""
    row = {}
    for name, field in model.model_fields.items():
        if name in values:
            row[name] = values[name]
        elif field.default_factory is not None:
            row[name] = field.default_factory()  # type: ignore[call-arg]
        elif not field.is_required():
            row[name] = field.default
        else:
            raise TypeError(f"{model.__name__}.{name} is required")
    row.pop("id", None)
    return row


@cache
def insert_unless_taken(model: type[SQLModel], key: str, dialect: str) -> Executable:
    """`model`'s insert, returning the new id, unless a row holds its unique `key` already
    (a replay, or a concurrent writer that took it first): one statement, no savepoint,
    built once per table and dialect so SQLAlchemy compiles it once."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    return insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c.id)


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration not yet applied (idempotent)."""
    if revision == "head" and _at_head(engine):
        return  # the common case, decided without importing alembic (160 ms)
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def _at_head(engine: Engine) -> bool:
    """Whether the database's applied revisions are exactly the heads of the migration files.

    Anything unexpected (an unreadable file, no version table, a failing query) answers
    False, and alembic decides.
    """
    heads = script_heads()
    if not heads:
        return False
    try:
        with engine.execution_options(sqlite_begin="DEFERRED").connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return False
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            return {row[0] for row in rows} == heads
    except SQLAlchemyError:
        return False


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
