"""The database helper: schema versions, migrations in one transaction, a connection per thread."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading

import pytest
from harness import JUPYTER_MLAPP

from jupyter_mlapp.auth.store import UserStore
from jupyter_mlapp.home import Database, Schema, SchemaTooNew, add_columns, open_database, schema_version

V1 = """
CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL); -- a comment; with a semicolon
CREATE INDEX IF NOT EXISTS notes_by_text ON notes(text);
"""


def rows(path, sql="SELECT * FROM notes ORDER BY id"):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def columns(path, table="notes"):
    return [row[1] for row in rows(path, f"PRAGMA table_info({table})")]


def test_a_new_file_gets_every_version_and_records_the_last(tmp_path):
    schema = Schema("notes", V1, migrations=(add_columns("notes", author="TEXT"), "ALTER TABLE notes ADD tag TEXT"))
    conn = open_database(tmp_path / "n.db", schema)
    assert schema_version(conn) == 3
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert columns(tmp_path / "n.db") == ["id", "text", "author", "tag"]


def test_migrations_run_in_order_from_the_files_version_only(tmp_path):
    path = tmp_path / "n.db"
    open_database(path, Schema("notes", V1)).close()
    ran = []
    schema = Schema(
        "notes",
        V1,
        migrations=(
            lambda conn: ran.append(2),
            lambda conn: ran.append(3),
        ),
    )
    open_database(path, schema).close()
    assert ran == [2, 3]
    open_database(path, schema).close()  # at its version: nothing runs again
    assert ran == [2, 3]


def test_a_file_without_a_version_is_version_one_and_keeps_its_rows(tmp_path):
    """What releases before versioned schemas wrote: version 1's tables, user_version 0, rows."""
    path = tmp_path / "n.db"
    conn = sqlite3.connect(path)
    conn.executescript(V1 + "INSERT INTO notes (text) VALUES ('kept');")
    conn.close()
    conn = open_database(path, Schema("notes", V1, migrations=(add_columns("notes", author="TEXT"),)))
    assert [tuple(r) for r in conn.execute("SELECT * FROM notes")] == [(1, "kept", None)]
    assert schema_version(conn) == 2
    conn.close()


def test_added_columns_a_file_already_has_are_left_alone(tmp_path):
    """The code before versions added columns when missing: such a file reads as version 0 with them."""
    path = tmp_path / "n.db"
    conn = sqlite3.connect(path)
    conn.executescript(V1 + "ALTER TABLE notes ADD author TEXT;")
    conn.close()
    open_database(path, Schema("notes", V1, migrations=(add_columns("notes", author="TEXT", tag="TEXT"),))).close()
    assert columns(path) == ["id", "text", "author", "tag"]


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "n.db"
    conn = open_database(path, Schema("notes", V1))
    conn.execute("INSERT INTO notes (text) VALUES ('before')")
    conn.close()

    def breaks(conn):
        conn.execute("DROP INDEX notes_by_text")
        conn.execute("SELECT * FROM no_such_table")

    schema = Schema("notes", V1, migrations=(add_columns("notes", author="TEXT"), breaks))
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        open_database(path, schema)
    assert columns(path) == ["id", "text"]
    assert rows(path, "PRAGMA user_version") == [(1,)]
    assert rows(path, "SELECT name FROM sqlite_master WHERE type = 'index'") == [("notes_by_text",)]
    assert rows(path) == [(1, "before")]


def test_a_newer_file_is_refused_with_a_clear_message_and_not_touched(tmp_path):
    path = tmp_path / "n.db"
    open_database(path, Schema("notes", V1, migrations=("ALTER TABLE notes ADD tag TEXT",))).close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew) as raised:
        open_database(path, Schema("notes", V1))
    message = str(raised.value)
    assert "\n" not in message
    assert "version 2 of the notes database" in message
    assert "(version 1)" in message
    assert "upgrade jupyter-mlapp" in message
    with pytest.raises(SchemaTooNew):
        open_database(path, Schema("notes", V1), readonly=True)
    assert path.read_bytes() == before


def test_a_file_at_its_version_opens_without_the_write_lock(tmp_path):
    """Supervisors and the server's reads open files another process may be writing."""
    path = tmp_path / "n.db"
    schema = Schema("notes", V1, migrations=(add_columns("notes", author="TEXT"),))
    open_database(path, schema).close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        open_database(path, schema, timeout=0.1).close()
        with pytest.raises(sqlite3.OperationalError, match="locked"):  # an older file must wait
            open_database(path, Schema("notes", V1, migrations=(*schema.migrations, "SELECT 1")), timeout=0.1)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_readonly_opening_of_an_older_file_migrates_it_first(tmp_path):
    path = tmp_path / "n.db"
    open_database(path, Schema("notes", V1)).close()
    conn = open_database(path, Schema("notes", V1, migrations=(add_columns("notes", author="TEXT"),)), readonly=True)
    assert schema_version(conn) == 2
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("INSERT INTO notes (text) VALUES ('no')")
    conn.close()
    assert columns(path) == ["id", "text", "author"]


def test_each_thread_has_its_own_connection(tmp_path):
    database = Database(tmp_path / "n.db", Schema("notes", V1))
    mine = database.connection()
    assert database.connection() is mine
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(database.connection()))
    thread.start()
    thread.join()
    assert theirs[0] is not mine
    theirs[0].close()
    database.close()
    assert database.connection() is not mine  # closed: the next use opens a new one
    database.close()


def test_processes_opening_at_once_migrate_once(tmp_path):
    """Concurrent openers queue on the write lock; the later ones find the work done."""
    path = tmp_path / "n.db"
    open_database(path, Schema("notes", V1)).close()
    ran = []
    schema = Schema("notes", V1, migrations=(lambda conn: ran.append(conn.execute("ALTER TABLE notes ADD x TEXT")),))
    errors = []

    def open_it():
        try:
            open_database(path, schema).close()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ran) == 1
    assert columns(path) == ["id", "text", "x"]


def test_a_server_whose_home_holds_a_newer_database_stops_with_one_line(tmp_path):
    """Not a server without its extension (Jupyter's default for an extension that fails to load)."""
    home = tmp_path / "home"
    UserStore(home).database.close()
    conn = sqlite3.connect(home / "auth" / "users.sqlite")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    run = subprocess.run(
        [
            *JUPYTER_MLAPP,
            "--port=0",
            f"--MLApp.home={home}",
            f"--ServerApp.root_dir={tmp_path}",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    errors = [line for line in run.stderr.splitlines() if line.startswith("jupyter mlapp:")]
    assert errors == [
        f"jupyter mlapp: {home / 'auth' / 'users.sqlite'} holds version 99 of the users database, newer than this "
        "jupyter-mlapp knows (version 1): upgrade jupyter-mlapp to open it"
    ]
