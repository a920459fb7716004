"""Schema migrations through sqlite-utils' migration set: applied once, adopted from the old record, and a
statement is never cut at a semicolon it contains."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlite_utils
from paqshot_server.storage import migrations
from paqshot_server.storage.db import connect


def test_a_fresh_database_gets_every_migration_once(tmp_path: Path) -> None:
    db = connect(tmp_path / "app.db")
    applied = [m.name for m in migrations.migration_set().applied(db)]
    assert applied == [m.__name__ for m in migrations.MIGRATIONS]
    assert {"jobs", "api_keys", "webhook_events", "idempotency"} <= set(db.table_names())
    connect(tmp_path / "app.db")  # again: nothing left to apply, nothing fails


def test_processes_opening_a_fresh_database_together_migrate_it_once(tmp_path: Path) -> None:
    """Six connections open one new file at once, 60 times: none fails, the schema is migrated once. (Switching a
    new file to WAL raced: "database is locked" in about one round in nine, so one round could pass by luck.)"""
    for round_ in range(60):
        path = tmp_path / f"app{round_}.db"
        errors: list[BaseException] = []

        def open_it(path: Path = path, errors: list[BaseException] = errors) -> None:
            try:
                connect(path).conn.close()
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, (round_, errors)
        assert len(migrations.migration_set().applied(connect(path))) == len(migrations.MIGRATIONS)


def test_a_database_migrated_by_the_old_record_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path, isolation_level=None)
    db = sqlite_utils.Database(conn)
    migrations.m001_initial(db)  # as the old code left it: schema plus its own record table
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO schema_migrations VALUES (1, 'm001_initial')")
    conn.close()
    db = connect(path)  # would fail "table api_keys already exists" if m001 ran again
    assert [m.name for m in migrations.migration_set().applied(db)][:1] == ["m001_initial"]


def test_a_semicolon_inside_a_statement_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def m999_note(db: sqlite_utils.Database) -> None:
        migrations._run(db, ["CREATE TABLE notes (text TEXT NOT NULL DEFAULT 'one; two')"])

    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, m999_note))
    db = connect(tmp_path / "app.db")
    db.conn.execute("INSERT INTO notes DEFAULT VALUES")
    assert db.conn.execute("SELECT text FROM notes").fetchone()[0] == "one; two"
