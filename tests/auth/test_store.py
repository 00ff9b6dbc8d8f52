"""The account store: real SQLite files, real argon2 hashes."""

from __future__ import annotations

import sqlite3
import statistics
import time

import pytest
from argon2 import PasswordHasher
from fixtures import predecessor_home

from jupyter_mlapp.auth.store import SCHEMA, UserStore
from jupyter_mlapp.errors import Conflict, InvalidInput, NotFound
from jupyter_mlapp.home import schema_version

BAD_USERNAMES = [
    "",
    "   ",
    "Ann Lee",
    "ann/../x",
    "../etc",
    "ann\x00",
    "ann\nb",
    "ännä",
    "a" * 65,
    "'; DROP TABLE users; --",
    "bob' OR '1'='1",
    ".hidden",
    "-dash",
    None,
    42,
    ["ann"],
]
BAD_PASSWORDS = ["", "short", "x" * 1025, "tab\tpassword", "nul\x00password", "zero\u200bwidth-pw", None, 12345678]


def snapshot(store: UserStore) -> bytes:
    """Everything the store holds, to prove a refused change left it untouched."""
    return "\n".join(store.db.iterdump()).encode()


def test_add_get_list_and_roles(store):
    store.add("Ann", "correct horse battery", "admin", display_name="Ann Lee")
    store.add("bob", "another password", "viewer")
    ann = store.get("ann")  # usernames are case-insensitive, kept lower-case
    assert (ann.username, ann.display_name, ann.role, ann.disabled) == ("ann", "Ann Lee", "admin", False)
    assert ann.created <= time.time() and ann.last_login is None
    assert [a.username for a in store.list()] == ["ann", "bob"]
    assert store.get("bob").display_name == "bob"
    with pytest.raises(Conflict):
        store.add("ANN", "yet another password")


def test_password_is_stored_as_argon2_hash_only(store, mlapp_home):
    store.add("ann", "correct horse battery")
    raw = (mlapp_home / "auth" / "users.sqlite").read_bytes()
    assert b"correct horse battery" not in raw
    (hash_,) = sqlite3.connect(store.path).execute("SELECT password_hash FROM users").fetchone()
    assert hash_.startswith("$argon2id$")
    assert "password_hash" not in store.get("ann").to_dict()
    assert oct(store.path.parent.stat().st_mode & 0o777) == "0o700"  # database, -wal and -shm files


def test_authenticate(store):
    store.add("ann", "correct horse battery")
    assert store.authenticate("ann", "correct horse battery").last_login is not None
    assert store.authenticate("ANN ", "correct horse battery").username == "ann"
    assert store.authenticate("ann", "wrong horse battery") is None
    assert store.authenticate("nobody", "correct horse battery") is None
    store.set_disabled("ann", True)
    assert store.authenticate("ann", "correct horse battery") is None


def test_unicode_passwords_match_whatever_the_keyboard_composes(store):
    store.add("ann", "caf\u00e9-au-lait")  # precomposed é
    assert store.authenticate("ann", "cafe\u0301-au-lait")  # e + combining accent


@pytest.mark.parametrize("username", BAD_USERNAMES)
def test_bad_usernames_are_refused_and_change_nothing(store, username):
    store.add("ann", "correct horse battery", "admin")
    before = snapshot(store)
    with pytest.raises(InvalidInput):
        store.add(username, "a fine password")
    assert snapshot(store) == before


@pytest.mark.parametrize("password", BAD_PASSWORDS)
def test_bad_passwords_are_refused_and_change_nothing(store, password):
    store.add("ann", "correct horse battery", "admin")
    before = snapshot(store)
    with pytest.raises(InvalidInput):
        store.add("bob", password)
    with pytest.raises(InvalidInput):
        store.set_password("ann", password)
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.set_role("ann", "root"),
        lambda s: s.set_role("ann", ["admin"]),
        lambda s: s.set_display_name("ann", "x" * 101),
        lambda s: s.set_display_name("ann", "bell\x07"),
        lambda s: s.set_disabled("ann", "yes"),
        lambda s: s.add("bob", "a fine password", "superuser"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(store, change):
    store.add("ann", "correct horse battery", "admin")
    before = snapshot(store)
    with pytest.raises(InvalidInput):
        change(store)
    assert snapshot(store) == before


def test_generation_moves_on_logout_password_change_and_disable(store):
    store.add("ann", "correct horse battery", "admin")
    store.add("bob", "another password")
    generations = [store.get("bob").generation]
    store.end_sessions("bob")
    generations.append(store.get("bob").generation)
    store.set_password("bob", "a brand new password")
    generations.append(store.get("bob").generation)
    store.set_disabled("bob", True)
    generations.append(store.get("bob").generation)
    assert generations == sorted(set(generations)) and len(generations) == 4
    store.set_role("bob", "viewer")  # a role change applies at the next request: no logout
    assert store.get("bob").generation == generations[-1]


def test_the_last_admin_stays(store):
    store.add("ann", "correct horse battery", "admin")
    for change in (
        lambda: store.remove("ann"),
        lambda: store.set_role("ann", "editor"),
        lambda: store.set_disabled("ann", True),
    ):
        with pytest.raises(Conflict, match="last enabled admin"):
            change()
    store.add("bob", "another password", "admin")
    store.set_role("ann", "editor")
    store.remove("ann")
    with pytest.raises(NotFound):
        store.remove("ann")


def test_api_tokens(store):
    store.add("ann", "correct horse battery")
    info, secret = store.create_token("ann", "nightly script")
    assert secret.startswith("mlapp_") and len(secret) > 40
    assert store.account_for_token(secret).username == "ann"
    assert store.account_for_token(secret[:-1] + "x") is None
    assert store.account_for_token("deadbeef") is None
    assert [t["note"] for t in store.list_tokens("ann")] == ["nightly script"]
    assert secret not in str(store.list_tokens("ann")) and secret.encode() not in store.path.read_bytes()
    store.set_disabled("ann", True)  # (not the last admin: ann is an editor)
    assert store.account_for_token(secret) is None
    store.set_disabled("ann", False)
    store.revoke_token("ann", info["id"])
    assert store.account_for_token(secret) is None
    with pytest.raises(NotFound):
        store.revoke_token("ann", info["id"])


def test_setup_code_is_one_time(store):
    code = store.issue_setup_code()
    assert store.setup_code_valid(code) and not store.setup_code_valid(code + "x")
    with pytest.raises(InvalidInput):
        store.create_first_admin("not-the-code", "ann", "correct horse battery")
    assert store.count() == 0
    admin = store.create_first_admin(code, "ann", "correct horse battery", "Ann")
    assert (admin.role, admin.display_name) == ("admin", "Ann")
    assert not store.setup_code_valid(code)
    with pytest.raises(InvalidInput, match="already used"):
        store.create_first_admin(code, "eve", "correct horse battery")
    assert store.issue_setup_code() is None  # never once there is an account
    assert [a.username for a in store.list()] == ["ann"]


def test_expired_setup_code(store):
    code = store.issue_setup_code(ttl=-1)
    assert not store.setup_code_valid(code)


def test_a_second_process_sees_changes_at_once(store, mlapp_home):
    store.add("ann", "correct horse battery")
    other = UserStore(mlapp_home, hasher=store.hasher)  # as the `jupyter mlapp user` command opens it
    other.set_disabled("ann", True)
    assert store.get("ann").disabled


def test_wrong_username_takes_as_long_as_wrong_password(mlapp_home):
    """No user enumeration by timing: unknown users are checked against a dummy hash."""
    # A hash cost well above the noise of a busy machine, still quick enough for the suite.
    store = UserStore(mlapp_home, hasher=PasswordHasher(time_cost=2, memory_cost=32768, parallelism=1))
    store.add("ann", "correct horse battery")
    store.authenticate("nobody", "warm-up the dummy hash")

    def timed(username):
        start = time.perf_counter()
        assert store.authenticate(username, "wrong horse battery") is None
        return time.perf_counter() - start

    samples = {"ann": [], "nobody": []}
    for _ in range(5):  # interleaved, so a burst of load hits both alike
        for username in samples:
            samples[username].append(timed(username))
    wrong_password, wrong_user = (statistics.median(samples[u]) for u in ("ann", "nobody"))
    # Skipping the hash would make a wrong username ~1000x faster; noise stays well inside 2x.
    assert 0.5 < wrong_user / wrong_password < 2, (wrong_user, wrong_password)


def test_a_home_folder_of_the_release_before_versions_keeps_its_accounts(tmp_path):
    """users.sqlite as ab86b98 wrote it (no schema version): its users still sign in, their
    tokens still work, and the file is now at the code's version."""
    home, held = predecessor_home(tmp_path)
    store = UserStore(home)
    assert [(a.username, a.role) for a in store.list()] == [("alice", "admin"), ("victor", "viewer")]
    for name, password in held["users"].items():
        assert store.authenticate(name, password).username == name
    assert store.authenticate("alice", "not her password") is None
    assert store.account_for_token(held["token"]).username == "alice"
    assert schema_version(store.db) == SCHEMA.version
