"""The launcher: a warm process that forks a supervisor for each job it is asked to start.

A fresh supervisor costs a Python start-up and its imports (tens of milliseconds of CPU, far
more on a busy machine); a fork of a process that has them loaded costs about a millisecond. One
launcher serves one home folder: the first job start makes it, and it goes away after
``IDLE_SECONDS`` without work. It listens on a Unix socket in a folder only our user can enter,
answers only processes of our user (``SO_PEERCRED``), and each supervisor it forks is detached
(a new session, re-parented at once) and runs with the environment of the process that asked,
exactly as if that process had started it. Whenever the launcher cannot be reached, the job's
supervisor is started the plain way, and the supervisor's take of the job in SQLite makes sure
that a job is never supervised twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import stat
import struct
import sys
import tempfile
import traceback
from pathlib import Path

from . import supervisor

IDLE_SECONDS = 30.0  # bursts (sweeps, queues) start warm; an idle home keeps no process
TICK = 2.0  # how often an idle launcher checks whether its home folder still exists
MAX_REQUEST = 1024 * 1024
OK = b"ok"


def socket_path(db: str | os.PathLike) -> Path | None:
    """Where the launcher of the jobs database ``db`` listens; None where we cannot have one
    safely (not Linux, or no private folder: a folder another user could enter is refused)."""
    if not sys.platform.startswith("linux"):
        return None
    folder = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"mlapp-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    # Unix socket paths are short (108 bytes): name it by a digest of the database's path.
    return folder / (hashlib.sha256(os.fsencode(db)).hexdigest()[:20] + ".sock")


def request(path: Path, db: str, job_id: str, limit: int, timeout: float = 5.0) -> bool:
    """Ask the launcher to supervise ``job_id``; False when no launcher took it."""
    message = json.dumps({"db": db, "job": job_id, "limit": limit, "environ": dict(os.environ)}).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(path))
            conn.sendall(message)
            conn.shutdown(socket.SHUT_WR)
            return conn.recv(len(OK)) == OK
    except OSError:
        return False


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _read(conn: socket.socket) -> dict:
    chunks, size = [], 0
    while chunk := conn.recv(65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_REQUEST:
            raise ValueError("request too large")
    return json.loads(b"".join(chunks))


def _supervise(request: dict) -> None:
    """In a forked child: detach, then become the job's supervisor. Never returns."""
    code = 1
    try:
        os.setsid()
        if os.fork():  # the launcher waits for this intermediate only: the supervisor is free
            os._exit(0)
        os.environ.clear()
        os.environ.update(request["environ"])
        code = supervisor.main([request["db"], request["job"], str(request["limit"])])
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def serve(path: Path, db: Path, idle: float = IDLE_SECONDS) -> int:
    lock = open(path.with_suffix(".lock"), "w")  # noqa: SIM115 - held for the launcher's life, closed by forks
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another launcher serves this home
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chmod(path, 0o600)
    server.listen(128)
    server.settimeout(TICK)
    waited = 0.0
    while waited < idle and db.exists():
        try:
            conn, _ = server.accept()
        except TimeoutError:
            waited += TICK
            continue
        waited = 0.0
        with conn:
            try:
                conn.settimeout(5.0)
                if _peer_uid(conn) != os.getuid():
                    continue
                job = _read(conn)
            except (OSError, ValueError):
                continue
            child = os.fork()
            if child == 0:
                for inherited in (server, conn, lock):  # the lock must die with the launcher
                    inherited.close()
                _supervise(job)
            os.waitpid(child, 0)
            # The asker may have given up and started a supervisor itself: ours finds the job taken.
            with contextlib.suppress(OSError):
                conn.sendall(OK)
    path.unlink(missing_ok=True)
    server.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    path, db = argv if argv is not None else sys.argv[1:]
    os.umask(0o077)
    os.chdir("/")  # a daemon keeps no folder busy
    return serve(Path(path), Path(db))


if __name__ == "__main__":
    sys.exit(main())
