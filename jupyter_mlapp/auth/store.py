"""User accounts in the embedded store: ``<home>/auth/users.sqlite``.

Passwords are kept as argon2id hashes (argon2-cffi). Each account carries a ``generation``
counter that the login cookie repeats: logout, a password change and disabling bump it, which
invalidates every cookie of that account at once, in every process that reads the store.

The server and the ``jupyter mlapp user`` command share the file (SQLite WAL, one connection
per thread), so an account disabled from the command line is refused on the server's next
request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
import unicodedata
from dataclasses import asdict, dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import Conflict, InvalidInput, NotFound
from ..home import Database, Schema, home_dir, room_dir, transaction

ROLES = ("admin", "editor", "viewer")
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
MAX_DISPLAY_NAME = 100
TOKEN_PREFIX = "mlapp_"
# The hash of an account without a password (a JupyterHub user whose role is kept here): no
# password matches it, as "!" in /etc/shadow.
NO_PASSWORD = "!"
SETUP_CODE_TTL = 24 * 3600

# Version 1 is the first release's; no change since.
SCHEMA = Schema(
    "users",
    """
CREATE TABLE IF NOT EXISTS users (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    created       REAL NOT NULL,
    last_login    REAL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    generation    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS api_tokens (
    id        TEXT PRIMARY KEY,
    username  TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    digest    TEXT NOT NULL UNIQUE,
    note      TEXT NOT NULL,
    created   REAL NOT NULL,
    last_used REAL
);
CREATE TABLE IF NOT EXISTS setup_codes (
    digest  TEXT PRIMARY KEY,
    expires REAL NOT NULL
);
""",
)


@dataclass(frozen=True)
class Account:
    """An account as everyone may see it: never the password hash."""

    username: str
    display_name: str
    role: str
    created: float
    last_login: float | None
    disabled: bool
    generation: int

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["generation"]  # an implementation detail of cookie invalidation
        return data


def _has_control_chars(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text)


def normalize_username(username) -> str:
    """Lower-case ``username`` and check it is a name we can use in paths and URLs."""
    if not isinstance(username, str) or not username.strip():
        raise InvalidInput("username is required")
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise InvalidInput(
            "username must be 1-64 characters: lower-case letters a-z, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_password_for_login(password) -> str:
    """The password as it is hashed (NFKC, so the same text typed on any keyboard matches)."""
    if not isinstance(password, str) or not password:
        raise InvalidInput("password is required")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"password is longer than {MAX_PASSWORD} characters")
    if _has_control_chars(password):
        raise InvalidInput("password must not contain control characters")
    return unicodedata.normalize("NFKC", password)


def check_password(password) -> str:
    """A new password: as for login, and long enough."""
    password = check_password_for_login(password)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters")
    return password


def check_role(role) -> str:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    return role


def check_display_name(display_name, default: str) -> str:
    if display_name is None or display_name == "":
        return default
    if not isinstance(display_name, str):
        raise InvalidInput("display name must be text")
    display_name = display_name.strip()
    if len(display_name) > MAX_DISPLAY_NAME:
        raise InvalidInput(f"display name is longer than {MAX_DISPLAY_NAME} characters")
    if _has_control_chars(display_name):
        raise InvalidInput("display name must not contain control characters")
    return display_name or default


def _digest(secret: str) -> str:
    # API tokens and setup codes are 256-bit random values: a fast hash is enough to keep the
    # file from holding usable credentials, and lets us look them up by digest.
    return hashlib.sha256(secret.encode()).hexdigest()


class UserStore:
    """The accounts of one home folder."""

    def __init__(self, home=None, hasher: PasswordHasher | None = None):
        self.home = home_dir(home)
        folder = room_dir("auth", self.home)
        folder.chmod(0o700)  # the database and its -wal/-shm files hold the hashes
        self.path = folder / "users.sqlite"
        # argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile) unless told otherwise.
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None
        # A connection per thread (logins verify hashes in worker threads); the file is created or
        # migrated now, so a newer one is refused at start.
        self.database = Database(self.path, SCHEMA)
        self.database.connection()

    @property
    def db(self) -> sqlite3.Connection:
        return self.database.connection()

    # -- reading ---------------------------------------------------------------------------
    @staticmethod
    def _account(row) -> Account:
        return Account(
            row["username"],
            row["display_name"],
            row["role"],
            row["created"],
            row["last_login"],
            bool(row["disabled"]),
            row["generation"],
        )

    def get(self, username: str) -> Account | None:
        row = self.db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        return self._account(row) if row else None

    def require(self, username) -> Account:
        account = self.get(normalize_username(username))
        if account is None:
            raise NotFound(f"no user named {username!r}")
        return account

    def list(self) -> list[Account]:
        return [self._account(r) for r in self.db.execute("SELECT * FROM users ORDER BY username")]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM users").fetchone()[0]

    # -- accounts --------------------------------------------------------------------------
    def add(self, username, password, role="editor", display_name=None, *, no_password: bool = False) -> Account:
        """A new account; ``no_password=True`` (and no password): one that never signs in here
        (under JupyterHub the Hub signs its users in; the account gives their role on this server)."""
        name = normalize_username(username)
        role = check_role(role)
        display_name = check_display_name(display_name, name)
        if no_password and password is not None:
            raise InvalidInput("give a password or no_password=True, not both")
        password_hash = NO_PASSWORD if no_password else self.hasher.hash(check_password(password))
        with transaction(self.db) as db:
            if db.execute("SELECT 1 FROM users WHERE username = ?", (name,)).fetchone():
                raise Conflict(f"a user named {name!r} already exists")
            db.execute(
                "INSERT INTO users (username, display_name, password_hash, role, created) VALUES (?, ?, ?, ?, ?)",
                (name, display_name, password_hash, role, time.time()),
            )
        return self.get(name)

    def remove(self, username) -> None:
        account = self.require(username)
        with transaction(self.db) as db:
            self._keep_an_admin(db, account.username, "remove")
            db.execute("DELETE FROM users WHERE username = ?", (account.username,))

    def set_password(self, username, password) -> Account:
        """New password; every existing login of the account ends."""
        account = self.require(username)
        password_hash = self.hasher.hash(check_password(password))
        with transaction(self.db) as db:
            db.execute(
                "UPDATE users SET password_hash = ?, generation = generation + 1 WHERE username = ?",
                (password_hash, account.username),
            )
        return self.get(account.username)

    def set_role(self, username, role) -> Account:
        account = self.require(username)
        role = check_role(role)
        with transaction(self.db) as db:
            if role != "admin":
                self._keep_an_admin(db, account.username, "demote")
            db.execute("UPDATE users SET role = ? WHERE username = ?", (role, account.username))
        return self.get(account.username)

    def set_disabled(self, username, disabled: bool = True) -> Account:
        """Disable (every login ends at once) or enable an account."""
        account = self.require(username)
        if not isinstance(disabled, bool):
            raise InvalidInput("disabled must be true or false")
        with transaction(self.db) as db:
            if disabled:
                self._keep_an_admin(db, account.username, "disable")
            db.execute(
                "UPDATE users SET disabled = ?, generation = generation + ? WHERE username = ?",
                (int(disabled), int(disabled), account.username),
            )
        return self.get(account.username)

    def set_display_name(self, username, display_name) -> Account:
        account = self.require(username)
        display_name = check_display_name(display_name, account.username)
        with transaction(self.db) as db:
            db.execute("UPDATE users SET display_name = ? WHERE username = ?", (display_name, account.username))
        return self.get(account.username)

    def end_sessions(self, username: str) -> None:
        """Invalidate every login cookie of the account (logout)."""
        with transaction(self.db) as db:
            db.execute("UPDATE users SET generation = generation + 1 WHERE username = ?", (username,))

    @staticmethod
    def _keep_an_admin(db, username: str, verb: str) -> None:
        others = db.execute(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND username != ?", (username,)
        ).fetchone()[0]
        is_admin = db.execute(
            "SELECT 1 FROM users WHERE username = ? AND role = 'admin' AND disabled = 0", (username,)
        ).fetchone()
        if is_admin and not others:
            raise Conflict(f"cannot {verb} {username!r}: it is the last enabled admin")

    # -- passwords -------------------------------------------------------------------------
    @property
    def dummy_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    def authenticate(self, username, password) -> Account | None:
        """The enabled account with this username and password, else None.

        Unknown and disabled accounts verify against a dummy hash, so a wrong username takes as
        long as a wrong password (no user enumeration by timing). Bad input raises InvalidInput.
        """
        name = normalize_username(username)
        password = check_password_for_login(password)
        row = self.db.execute("SELECT password_hash, disabled FROM users WHERE username = ?", (name,)).fetchone()
        usable = row is not None and row["password_hash"] != NO_PASSWORD
        stored = row["password_hash"] if usable else self.dummy_hash
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if not usable or row["disabled"]:
            return None
        with transaction(self.db) as db:
            if self.hasher.check_needs_rehash(stored):  # parameters were raised since
                db.execute("UPDATE users SET password_hash = ? WHERE username = ?", (self.hasher.hash(password), name))
            db.execute("UPDATE users SET last_login = ? WHERE username = ?", (time.time(), name))
        return self.get(name)

    # -- API tokens for scripts ------------------------------------------------------------
    def create_token(self, username: str, note: str = "") -> tuple[dict, str]:
        """A new API token for ``Authorization: token ...``; the secret is shown only once."""
        account = self.require(username)
        note = check_display_name(note, "API token")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(6)
        now = time.time()
        with transaction(self.db) as db:
            db.execute(
                "INSERT INTO api_tokens (id, username, digest, note, created) VALUES (?, ?, ?, ?, ?)",
                (token_id, account.username, _digest(secret), note, now),
            )
        return {"id": token_id, "note": note, "created": now, "last_used": None}, secret

    def list_tokens(self, username: str) -> list[dict]:
        rows = self.db.execute(
            "SELECT id, note, created, last_used FROM api_tokens WHERE username = ? ORDER BY created", (username,)
        )
        return [dict(r) for r in rows]

    def revoke_token(self, username: str, token_id: str) -> None:
        with transaction(self.db) as db:
            gone = db.execute("DELETE FROM api_tokens WHERE id = ? AND username = ?", (token_id, username)).rowcount
        if not gone:
            raise NotFound(f"no API token {token_id!r}")

    def account_for_token(self, secret: str) -> Account | None:
        """The enabled account an API token belongs to."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
            return None
        row = self.db.execute(
            "SELECT t.id, t.last_used, u.* FROM api_tokens t JOIN users u ON u.username = t.username "
            "WHERE t.digest = ?",
            (_digest(secret),),
        ).fetchone()
        if row is None or row["disabled"]:
            return None
        now = time.time()
        if (row["last_used"] or 0) < now - 60:  # at most one write a minute per token
            with transaction(self.db) as db:
                db.execute("UPDATE api_tokens SET last_used = ? WHERE id = ?", (now, row["id"]))
        return self._account(row)

    # -- the one-time link that creates the first admin ------------------------------------
    def issue_setup_code(self, ttl: float = SETUP_CODE_TTL) -> str | None:
        """A fresh one-time code (replacing older ones) while the store has no users."""
        code = secrets.token_urlsafe(32)
        with transaction(self.db) as db:
            if db.execute("SELECT COUNT(*) FROM users").fetchone()[0]:
                return None
            db.execute("DELETE FROM setup_codes")
            db.execute("INSERT INTO setup_codes (digest, expires) VALUES (?, ?)", (_digest(code), time.time() + ttl))
        return code

    def setup_code_valid(self, code) -> bool:
        if not isinstance(code, str) or not code or len(code) > 100:
            return False
        rows = self.db.execute("SELECT digest, expires FROM setup_codes").fetchall()
        return not self.count() and any(
            hmac.compare_digest(r["digest"], _digest(code)) and r["expires"] > time.time() for r in rows
        )

    def create_first_admin(self, code, username, password, display_name=None) -> Account:
        """Use the one-time code: create the first admin (signed in by it: their first login), and
        the code is spent."""
        name = normalize_username(username)
        display_name = check_display_name(display_name, name)
        password_hash = self.hasher.hash(check_password(password))
        with transaction(self.db) as db:
            if not self.setup_code_valid(code):
                raise InvalidInput("this setup link was already used or has expired; restart the server for a new one")
            db.execute("DELETE FROM setup_codes")
            now = time.time()
            db.execute(
                "INSERT INTO users (username, display_name, password_hash, role, created, last_login) "
                "VALUES (?, ?, ?, 'admin', ?, ?)",
                (name, display_name, password_hash, now, now),
            )
        return self.get(name)
