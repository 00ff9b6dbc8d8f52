"""Pooled app kernels forked from a warm template process (opt-in: ``c.MLApp.app_kernel_fork``).

A plain pooled kernel is a new Python process that imports numpy, pandas, the widget libraries
and our modules itself: 1.5-2.5 s of CPU and ~200 MB of its own memory each. Here one template
process per interpreter (``kernel_template.py``) imports them once, and each pooled kernel is a
fork of it: started in milliseconds, sharing the imported modules' memory copy-on-write.

- Only kernel specs that run ``-m ipykernel_launcher`` are forked; any other, and any kernel
  started for a request, starts the plain way.
- The template is started with the environment a plain pooled kernel gets, and each child is
  given exactly the environment its plain start would have had (``JPY_PARENT_PID`` included).
- ``ForkProvisioner`` is jupyter_client's local provisioner whose launch asks the template; the
  kernel's shutdown, interrupt, restart and culling go through the same provisioner calls, on
  the child's pidfd (the template, not the server, is its parent).
- A template that dies is started again, and the kernel being launched starts the plain way.
  One that never served (it refused: a library started a thread at import) is not retried.
- The template and its children exit when the server does (each watches the server's pidfd).
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from jupyter_client.provisioning import LocalProvisioner

TEMPLATE_SOURCE = Path(__file__).with_name("kernel_template.py").read_text()
# Threads these libraries would start at import, which a fork loses: off in the template only.
TEMPLATE_ENV = {"OPENBLAS_NUM_THREADS": "1", "JE_ARROW_MALLOC_CONF": "background_thread:false"}
START_TIMEOUT = 120.0  # the template's imports, on a loaded machine
FORK_TIMEOUT = 30.0
# Launch arguments a fork can honour; any other (a caller's stdout, say) means a plain start.
FORKABLE_KWARGS = frozenset({"env", "cwd", "kernel_id", "extra_arguments"})


class TemplateUnavailable(Exception):
    """The template could not fork this kernel: it is started the plain way."""


def forkable(cmd: list[str]) -> list[str] | None:
    """The kernel's own arguments when ``cmd`` starts a Python ipykernel, else None."""
    return cmd[3:] if len(cmd) >= 3 and cmd[1:3] == ["-m", "ipykernel_launcher"] else None


def supported() -> bool:
    """Forking needs Linux's pidfds (the server and each kernel watch each other through them)."""
    return sys.platform == "linux" and hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")


class KernelTemplate:
    """One template process, listening on a Unix socket in a folder of its own (0700)."""

    def __init__(self, python: str, env: dict, preload: list[str]):
        self.python, self.env = python, env
        self.folder = tempfile.mkdtemp(prefix="mlapp-kernel-template-")
        self.path = os.path.join(self.folder, "template.sock")
        self.served = 0
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(self.path)
            os.chmod(self.path, 0o600)
            listener.listen(16)  # requests wait here while the template imports
            fd = listener.fileno()
            self.process = subprocess.Popen(
                [python, "-c", TEMPLATE_SOURCE, str(fd), str(os.getpid()), json.dumps(preload)],
                pass_fds=[fd],
                env={**env, **TEMPLATE_ENV},
                stdin=subprocess.DEVNULL,
                cwd=self.folder,
            )

    def fork(self, argv: list[str], cwd: str, env: dict) -> tuple[int, int]:
        """A new kernel's pid and pidfd (blocking: the first waits for the template's imports)."""
        request = json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode() + b"\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(FORK_TIMEOUT if self.served else START_TIMEOUT)
            conn.connect(self.path)
            conn.sendall(request)
            data, fds, _, _ = socket.recv_fds(conn, 65536, 1)
        reply = json.loads(data or b"{}")
        if not fds:
            raise TemplateUnavailable(reply.get("error") or "the template closed the connection")
        os.set_inheritable(fds[0], False)  # nothing the server starts gets a hold on a kernel
        self.served += 1
        return reply["pid"], fds[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class KernelTemplates:
    """The templates, one per interpreter, each started when a pooled kernel first needs it."""

    def __init__(self, preload: list[str], log):
        self.preload = list(preload)
        self.log = log
        self._templates: dict[str, KernelTemplate] = {}
        self._refused: set[str] = set()
        self._lock = threading.Lock()  # one fork at a time; a template is started once
        self._closed = False

    def provisioner(self, **kwargs) -> ForkProvisioner:
        """A provisioner for one kernel (``kernel_id``, ``kernel_spec``, ``parent``) that forks it."""
        provisioner = ForkProvisioner(**kwargs)
        provisioner.templates = self
        return provisioner

    def pids(self) -> list[int]:
        return [t.process.pid for t in self._templates.values() if t.process.poll() is None]

    async def fork(self, python: str, argv: list[str], cwd: str, env: dict) -> tuple[int, int]:
        return await asyncio.to_thread(self._fork, python, argv, cwd, env)

    def _fork(self, python: str, argv: list[str], cwd: str, env: dict) -> tuple[int, int]:
        python = os.path.expanduser(python)  # as launch_kernel does
        with self._lock:
            if self._closed or python in self._refused:
                raise TemplateUnavailable("no template for this interpreter")
            template = self._templates.get(python)
            if template is None:
                template = self._templates[python] = KernelTemplate(python, env, self.preload)
                self.log.info("Kernel template %s started for %s", template.process.pid, python)
            try:
                return template.fork(argv, cwd, env)
            except (OSError, ValueError, TemplateUnavailable) as exc:
                if template.process.poll() is None and isinstance(exc, TemplateUnavailable):
                    raise  # the template is fine, this one kernel was not
                self._replace(python, template, exc)
                raise TemplateUnavailable(f"the kernel template failed ({exc!r})") from exc

    def _replace(self, python: str, template: KernelTemplate, exc: Exception) -> None:
        del self._templates[python]
        template.stop()
        if self._closed:
            return
        if not template.served:  # it never worked: starting it again would not either
            self._refused.add(python)
            self.log.error(
                "Kernel template for %s exited (%s) before serving: pooled kernels start the plain way",
                python,
                template.process.returncode,
            )
            return
        replacement = self._templates[python] = KernelTemplate(python, template.env, self.preload)
        self.log.warning(
            "Kernel template %s for %s died (%s): started again as %s; this kernel starts the plain way",
            template.process.pid,
            python,
            exc,
            replacement.process.pid,
        )

    def close(self) -> None:
        # Not under the lock: a fork may be waiting on a template's imports, which the stop ends.
        self._closed = True
        for template in list(self._templates.values()):
            template.stop()


class ForkedProcess:
    """A forked kernel, with the part of ``Popen`` that ``LocalProvisioner`` uses, over its pidfd.

    Its exit status goes to its parent, the template, which lets the system reap it: the server
    only learns that it exited (``returncode`` 0)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, pidfd: int):
        self.pid, self.pidfd = pid, pidfd
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self.pidfd], [], [], 0)[0]:
            self.returncode = 0
        return self.returncode

    def wait(self) -> int:
        select.select([self.pidfd], [], [])
        self.returncode = 0
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            signal.pidfd_send_signal(self.pidfd, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, whose launch forks the kernel from its template."""

    templates: KernelTemplates | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs):
        argv = forkable(cmd)
        if self.templates is not None and argv is not None and set(kwargs) <= FORKABLE_KWARGS:
            # What launch_kernel would give the kernel: the environment as prepared, and the
            # server's pid (as JPY_PARENT_PID: the child watches the server, not its parent).
            env = {**(kwargs.get("env") or os.environ), "JPY_PARENT_PID": str(os.getpid())}
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                pid, pidfd = await self.templates.fork(cmd[0], argv, cwd, env)
            except TemplateUnavailable as exc:
                self.log.warning("Kernel %s starts the plain way: %s", self.kernel_id, exc)
            else:
                self.process = ForkedProcess(pid, pidfd)  # type: ignore[assignment]  # the part of Popen used
                self.pid = self.pgid = pid  # the child called setsid()
                self.cwd = cwd
                return self.connection_info
        return await super().launch_kernel(cmd, **kwargs)

    async def send_signal(self, signum: int) -> None:
        # To the kernel's process group (its subprocesses too), as for a plain kernel; a
        # forked kernel that already exited holds no zombie, so its ids may be reused: nothing.
        if isinstance(self.process, ForkedProcess):
            if self.process.poll() is None:
                try:
                    os.killpg(self.pgid, signum)
                except OSError:
                    self.process.send_signal(signum)
            return
        await super().send_signal(signum)
