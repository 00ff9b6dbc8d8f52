"""App kernels: each Voila page's kernel, warm from a pool, for as long as its page is open.

Voila starts one kernel per page load and nothing ever stops it; a public app would leak one
kernel (~200 MB) per visit. ``AppKernels`` is the server's manager of those kernels:

- a page's kernel is shut down ``grace`` seconds after its page went away (its websocket closed:
  closed tab, navigation, reload; the page's state is on disk already, a reload restores it), and
  after ``idle_timeout`` seconds without activity as the backstop for pages that vanish silently;
- ``per_user`` and ``total`` cap the pages' kernels: past them ``ServerBusy`` (HTTP 503, "try
  again in a minute"), never an out-of-memory server. Kernels whose page already went away are
  reclaimed first, so a reload at the cap still opens;
- a warm pool keeps ``pool_size`` kernels per kernel spec started with the apps' imports done
  (``preload``). A pooled kernel is started for nobody; the server gives it its user's identity
  (``MLAPP_USER``, ``MLAPP_ROLE``, the page's request variables) at hand-over by executing an
  assignment in it, before the page's notebook runs, so ``jupyter_mlapp.current_user()`` is right.
  A kernel is handed over once and shut down with its page: never reused for another page or user.

Voila's own preheated kernels (``VoilaConfiguration.preheat_kernel``, voila 0.5) do not fit: under
jupyter_server (our mode) its page handler finds no pool on the server's kernel manager and starts
a kernel per page anyway, and its pooled kernels execute the whole notebook before any request,
that is for nobody, where our pages render for the signed-in user.

Plain asyncio over Jupyter's kernel manager: the Tornado side (Voila's page handler, the REST
listing) is in ``kernel_handlers.py``; ``auth/kernels.py`` routes Voila's kernel starts here.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..errors import NotFound, ServerBusy
from ..settings import ROLE, USER
from .forkserver import KernelTemplates
from .forkserver import supported as forking_supported

# What the shipped apps (notebooks/) import: a pooled kernel has paid for these before a page asks.
# The widgets' modules by name: their packages import them only when a widget is asked for, so
# importing ``jupyter_mlapp.data`` left the viewer, its grid and charts to each page's first cell.
DEFAULT_PRELOAD = (
    "numpy",
    "pandas",
    "pyarrow.pandas_compat",  # the data viewer's first frame
    "ipywidgets",
    "bqplot",
    "ipydatagrid",
    "jupyter_mlapp.apps",
    "jupyter_mlapp.data.viewer",
    "jupyter_mlapp.files.widgets",
    "jupyter_mlapp.jobs.job_manager",  # the Monitor and Train pages' jobs (a reload restores them)
    "jupyter_mlapp.jobs.widgets",
    "jupyter_mlapp.models.widgets",
    "jupyter_mlapp.sessions.widgets",
    "jupyter_mlapp.training.widgets",
)
# Whose a pooled kernel is before hand-over: no account can have this name (see auth/store.py),
# so the Authorizer lets only admins reach it.
POOL_OWNER = "(pool)"
# A page's first websocket comes once the browser has loaded Voila's JavaScript, which can take a
# while on a slow machine or link: until then the page gets this long instead of the grace period.
FIRST_CONNECT = 60.0
# A pooled kernel taken by a page is replaced once that page has settled: starting the new one
# (Python, the preload imports: 1-2 s of a core) while the page's notebook runs, its browser
# draws and its user clicks through its first pages took those cores from them (the 10M-row
# frame app: 4.68 s to its grid, 4.13 s with the replacement started later; the flagship's
# reload right after its open: 2.14-2.47 s, 1.56-1.75 s). A page settles this long after its
# first websocket (its widgets are drawn within the first second); one that has not connected
# SETTLE_MAX after it opened is not waited for.
SETTLE = 3.0
SETTLE_MAX = 10.0
KERNEL_MB = 250  # what one app kernel takes, measured with the flagship app (170-210 MB): for the defaults
BUSY_MESSAGE = "The server is busy, try again in a minute."


def default_caps(memory_bytes: int | None = None) -> dict[str, int]:
    """Caps sized from the machine's memory: at most half of it in app kernels."""
    if memory_bytes is None:
        import psutil

        memory_bytes = psutil.virtual_memory().total
    total = max(2, int(memory_bytes * 0.5 / (KERNEL_MB * 2**20)))
    return {"total": total, "per_user": min(3, total), "pool_size": 2 if total >= 8 else 1}


@dataclass
class AppKernel:
    """A page's kernel: whose, which app, since when, and whether its page is still there."""

    kernel_id: str
    user: str
    role: str
    app: str
    started: float = field(default_factory=time.time)
    opened: float = field(default_factory=time.monotonic)
    pooled: bool = False
    connections: int = 0
    rendering: bool = True  # Voila is executing the notebook: the page has no websocket yet
    left: float | None = None  # monotonic time since which the page has had no websocket
    first_connected: float | None = None  # monotonic

    @property
    def ever_connected(self) -> bool:
        return self.first_connected is not None

    def settling(self, now: float) -> bool:
        """Still opening: its notebook runs, its browser draws its widgets, its user clicks through it."""
        if not self.ever_connected:  # its notebook runs, or its browser loads Voila's JavaScript
            return now - self.opened < SETTLE_MAX
        return bool(self.connections) and now - self.first_connected < SETTLE

    def gone_for(self, now: float) -> float:
        return 0.0 if self.rendering or self.connections or self.left is None else now - self.left

    def is_gone(self, now: float, grace: float) -> bool:
        """The page went away: its websocket closed ``grace`` seconds ago, or it never came."""
        return self.gone_for(now) >= (grace if self.ever_connected else max(grace, FIRST_CONNECT))


@dataclass
class PooledKernel:
    kernel_id: str
    kernel_name: str
    env: dict
    client: object  # the kernel client that warmed it up, kept for the hand-over


class AppKernels:
    """The app pages' kernels over ``kernel_manager`` (the server's MLAppKernelManager)."""

    def __init__(
        self,
        kernel_manager,
        *,
        per_user: int,
        total: int,
        pool_size: int,
        pool_kernels: list[str] | tuple[str, ...] = ("python3",),
        preload: list[str] | tuple[str, ...] = DEFAULT_PRELOAD,
        grace: float = 15.0,
        idle_timeout: float = 3600.0,
        handover_timeout: float = 30.0,
        fork: bool = False,
    ):
        self.km = kernel_manager
        self.log = kernel_manager.log
        self.per_user = per_user
        self.total = total
        self.pool_size = pool_size
        self.pool_kernels = list(pool_kernels)
        self.preload = list(preload)
        self.grace = grace
        self.idle_timeout = idle_timeout
        self.handover_timeout = handover_timeout
        # Pooled kernels forked from a warm template (forkserver.py), where the platform allows.
        self.templates = KernelTemplates(self.preload, self.log) if fork and forking_supported() else None
        if fork and self.templates is None:
            self.log.warning("Forking app kernels needs Linux pidfds: pooled kernels start the plain way")
        self.pages: dict[str, AppKernel] = {}
        self._opening: dict[str, int] = {}  # user -> page kernels being started (counted in the caps)
        self._pool: dict[str, list[PooledKernel]] = {}
        self._warming: dict[str, int] = {}
        self._tasks: set[asyncio.Task] = set()
        self._loop_task: asyncio.Task | None = None
        self._running = False  # between start() and close(): the pool fills only then
        self._fill_waiter: asyncio.Task | None = None  # a fill waiting for the pages that are opening

    # -- what the server calls ------------------------------------------------------------------
    def start(self) -> None:
        """Fill the pool and watch the pages (call once the event loop runs)."""
        if self._loop_task is None:
            self._running = True
            self._loop_task = asyncio.get_running_loop().create_task(self._watch())
            self.fill()

    def close(self) -> None:
        """Stop watching and warming (the server shuts the kernels down itself, after this)."""
        self._running = False
        if self._loop_task is not None:
            self._loop_task.cancel()
        for task in list(self._tasks):  # the fill waiter among them
            task.cancel()
        for pooled in [p for pool in self._pool.values() for p in pool]:
            pooled.client.stop_channels()
        self._pool.clear()
        if self.templates is not None:
            self.templates.close()

    async def open_page(
        self,
        *,
        user: str,
        role: str,
        app: str,
        kernel_name: str | None,
        cwd: str,
        env: dict,
        start_cold: Callable[[], Awaitable[str]],
    ) -> str:
        """The kernel for a page ``user`` opens: a pooled one handed over, else one started now.

        ``env`` is what the page's kernel must have (Voila's request variables, the identity);
        ``start_cold`` starts a kernel with it when the pool has none. Raises ``ServerBusy``
        at the caps."""
        await self._make_room(user)
        self._opening[user] = self._opening.get(user, 0) + 1
        try:
            kernel_id, pooled = None, False
            for candidate in self._take(kernel_name or self.default_kernel()):
                try:
                    await self._hand_over(candidate, env, cwd)
                except Exception:
                    self.log.exception("Could not hand over pooled kernel %s: starting another", candidate.kernel_id)
                    self._shut_down(candidate.kernel_id)
                    continue
                kernel_id, pooled = candidate.kernel_id, True
                break
            if kernel_id is None:
                kernel_id = await start_cold()
            self.pages[kernel_id] = AppKernel(kernel_id, user, role, app, pooled=pooled)
            self.log.info(
                "App kernel %s (%s) for %s opening %s", kernel_id, "from the pool" if pooled else "started", user, app
            )
            return kernel_id
        finally:
            self._opening[user] -= 1
            if not self._opening[user]:
                del self._opening[user]
            self.fill()

    def page_served(self, kernel_id: str) -> None:
        """Voila has sent the page: from now on, no websocket means the page is gone."""
        page = self.pages.get(kernel_id)
        if page is not None and page.rendering:
            page.rendering = False
            if not page.connections:
                page.left = time.monotonic()

    def connected(self, kernel_id: str) -> None:
        page = self.pages.get(kernel_id)
        if page is not None:
            page.connections += 1
            page.left = None
            if not page.ever_connected:
                page.first_connected = time.monotonic()

    def disconnected(self, kernel_id: str) -> None:
        page = self.pages.get(kernel_id)
        if page is not None:
            page.connections = max(0, page.connections - 1)
            if not page.connections:
                page.left = time.monotonic()

    def forget(self, kernel_id: str) -> None:
        """The kernel is gone (shut down by anyone, or died)."""
        self.pages.pop(kernel_id, None)
        for pool in self._pool.values():
            for pooled in pool:
                if pooled.kernel_id == kernel_id:
                    pool.remove(pooled)
                    pooled.client.stop_channels()
                    self.fill()
                    return

    def is_pooled(self, kernel_id: str) -> bool:
        return any(p.kernel_id == kernel_id for pool in self._pool.values() for p in pool)

    def list(self) -> list[dict]:
        """The pages' kernels and the pool's, for admins: app, user, age, memory, state."""
        import psutil

        now, rows = time.time(), []
        # Copied at once (this runs in a worker thread while the event loop changes them).
        entries = [(page.kernel_id, page) for page in list(self.pages.values())]
        entries += [(p.kernel_id, None) for pool in list(self._pool.values()) for p in list(pool)]
        for kernel_id, page in entries:
            try:
                kernel = self.km.get_kernel(kernel_id)
            except KeyError:
                continue
            rss = 0
            pid = getattr(kernel.provisioner, "pid", None)
            try:
                process = psutil.Process(pid) if pid else None
                for p in [process, *process.children(recursive=True)] if process else ():
                    rss += p.memory_info().rss
            except psutil.Error:
                pass
            rows.append(
                {
                    "id": kernel_id,
                    "app": page.app if page else None,
                    "user": page.user if page else None,
                    "state": (
                        "pooled" if page is None else "open" if page.connections or page.rendering else "closing"
                    ),
                    "started": page.started if page else None,
                    "age": now - page.started if page else None,
                    "memory": rss,
                    "execution_state": getattr(kernel, "execution_state", None),
                }
            )
        return rows

    async def stop(self, kernel_id: str) -> None:
        """Shut down one app kernel (an admin's stop button)."""
        if kernel_id not in self.pages and not self.is_pooled(kernel_id):
            raise NotFound(f"no app kernel {kernel_id}")
        self.forget(kernel_id)
        await self.km.shutdown_kernel(kernel_id, now=True)

    def default_kernel(self) -> str:
        return getattr(self.km, "default_kernel_name", None) or "python3"

    # -- caps ----------------------------------------------------------------------------------
    def count(self, user: str | None = None) -> int:
        if user is None:
            return len(self.pages) + sum(self._opening.values())
        return sum(1 for p in self.pages.values() if p.user == user) + self._opening.get(user, 0)

    async def _make_room(self, user: str) -> None:
        """Refuse past the caps, after reclaiming the kernels whose page already went away."""
        if self.count(user) >= self.per_user:
            await self._reclaim([p for p in self.pages.values() if p.user == user])
        if self.count() >= self.total:
            await self._reclaim(list(self.pages.values()))
        if self.count(user) >= self.per_user:
            raise ServerBusy(
                f"{BUSY_MESSAGE} You have {self.per_user} app pages open: close one to open another.",
                detail={"limit": "per_user", "max": self.per_user},
            )
        if self.count() >= self.total:
            raise ServerBusy(BUSY_MESSAGE, detail={"limit": "total", "max": self.total})

    async def _reclaim(self, pages: list[AppKernel]) -> None:
        now = time.monotonic()
        # A page that closed is leaving; one that never connected may still be loading in a browser.
        leaving = [p.kernel_id for p in pages if p.gone_for(now) > 0 and (p.ever_connected or p.is_gone(now, 0))]
        for kernel_id in leaving:
            self.forget(kernel_id)
        await asyncio.gather(*(self.km.shutdown_kernel(k, now=True) for k in leaving), return_exceptions=True)

    # -- lifecycle -----------------------------------------------------------------------------
    async def _watch(self) -> None:
        interval = max(0.2, min(self.grace / 3, 5.0))
        while True:
            await asyncio.sleep(interval)
            try:
                if await self.reap() and not self.pages:
                    await asyncio.to_thread(return_freed_memory)
            except Exception:
                self.log.exception("Checking the app kernels failed")

    async def reap(self) -> list[str]:
        """Shut down the kernels whose page is gone (past the grace period) or idle too long."""
        now_mono, now = time.monotonic(), time.time()
        doomed = []
        for page in list(self.pages.values()):
            if page.is_gone(now_mono, self.grace):
                doomed.append((page, "its page closed"))
                continue
            try:
                kernel = self.km.get_kernel(page.kernel_id)
            except KeyError:
                self.forget(page.kernel_id)
                continue
            last = getattr(kernel, "last_activity", None)
            if self.idle_timeout and last is not None and now - last.timestamp() > self.idle_timeout:
                doomed.append((page, f"idle for {int(now - last.timestamp())} s"))
        for page, why in doomed:
            self.log.info("Shutting down app kernel %s of %s (%s): %s", page.kernel_id, page.user, page.app, why)
            self.forget(page.kernel_id)
        await asyncio.gather(
            *(self.km.shutdown_kernel(page.kernel_id, now=True) for page, _ in doomed), return_exceptions=True
        )
        self.fill()
        return [page.kernel_id for page, _ in doomed]

    def _shut_down(self, kernel_id: str) -> None:
        self._spawn(self.km.shutdown_kernel(kernel_id, now=True))

    def _spawn(self, coro) -> asyncio.Task:
        # An empty context: a kernel started from here is never taken for the request that
        # happened to trigger it (the kernel manager reads the request's user from the context).
        task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- the pool ------------------------------------------------------------------------------
    def fill(self) -> None:
        """Start pooled kernels up to ``pool_size`` per kernel spec, within the total cap, once
        no page is opening (see SETTLE)."""
        if not self._running:  # not started yet, or the server is stopping
            return
        if self._settling():
            if self._fill_waiter is None or self._fill_waiter.done():
                self._fill_waiter = self._spawn(self._fill_when_settled())
            return
        self._fill_now()

    def _fill_now(self) -> None:
        for name in self.pool_kernels:
            pooled = sum(len(p) for p in self._pool.values()) + sum(self._warming.values())
            missing = self.pool_size - len(self._pool.get(name, ())) - self._warming.get(name, 0)
            for _ in range(max(0, min(missing, self.total - self.count() - pooled))):
                self._warming[name] = self._warming.get(name, 0) + 1
                self._spawn(self._warm(name))

    def _settling(self) -> bool:
        now = time.monotonic()
        return bool(self._opening) or any(page.settling(now) for page in self.pages.values())

    async def _fill_when_settled(self) -> None:
        # Polled, as pages settle with time as much as with their websockets; SETTLE_MAX at most,
        # or pages opening one after another would put it off for ever.
        for _ in range(int(SETTLE_MAX / 0.2)):
            if not self._settling():
                break
            await asyncio.sleep(0.2)
        if self._running:
            self._fill_now()

    async def _warm(self, kernel_name: str) -> None:
        kernel_id = None
        try:
            env = {**os.environ, USER.name: POOL_OWNER, ROLE.name: "viewer"}
            forked = {"provisioner": self.templates.provisioner} if self.templates is not None else {}
            kernel_id = await self.km.start_kernel(kernel_name=kernel_name, env=env, **forked)
            self.km.owners[kernel_id] = POOL_OWNER
            client = self.km.get_kernel(kernel_id).client()
            client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
            await execute(client, preload_code(self.preload), timeout=120)
            self._pool.setdefault(kernel_name, []).append(PooledKernel(kernel_id, kernel_name, env, client))
            self.log.info("App kernel %s (%s) warmed up for the pool", kernel_id, kernel_name)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log.exception("Could not warm up a %s kernel for the app pool", kernel_name)
            if kernel_id is not None:
                await self.km.shutdown_kernel(kernel_id, now=True)
        finally:
            self._warming[kernel_name] -= 1

    def _take(self, kernel_name: str):
        """The pooled kernels of ``kernel_name``, each taken out of the pool as it is offered."""
        pool = self._pool.get(kernel_name, [])
        while pool:
            pooled = pool.pop(0)
            if pooled.kernel_id in self.km:
                yield pooled
            else:
                pooled.client.stop_channels()

    async def _hand_over(self, pooled: PooledKernel, env: dict, cwd: str) -> None:
        """Give the pooled kernel its page's environment (the identity included) and folder."""
        changed = {k: v for k, v in env.items() if pooled.env.get(k) != v}
        try:
            await execute(pooled.client, handover_code(changed, cwd), timeout=self.handover_timeout)
        finally:
            pooled.client.stop_channels()


def return_freed_memory() -> None:
    """Give the heap the server freed back to the system (glibc's malloc_trim), once the last app
    page left. A crowd of pages leaves the server's process with the high-water mark of their
    buffers (measured: 185 -> 314 MB after 20 viewers came and went); glibc keeps freed memory
    for reuse, so the server would never shrink back without this. Elsewhere: nothing to do."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _libc():
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def preload_code(modules: list[str]) -> str:
    """Import each module (one missing is the app's business when it imports it), leave no names."""
    return (
        "def _mlapp_preload(names):\n"
        "    import importlib\n"
        "    for name in names:\n"
        "        try:\n"
        "            importlib.import_module(name)\n"
        "        except Exception:\n"
        "            pass\n"
        f"_mlapp_preload({list(modules)!r})\n"
        "del _mlapp_preload\n"
    )


def handover_code(env: dict, cwd: str) -> str:
    """Set the page's variables and folder in the kernel, leaving no names behind."""
    return (
        "def _mlapp_handover(env, cwd):\n"
        "    import os\n"
        "    os.environ.update(env)\n"
        "    os.chdir(cwd)\n"
        f"_mlapp_handover({ {str(k): str(v) for k, v in env.items()}!r}, {str(cwd)!r})\n"
        "del _mlapp_handover\n"
    )


async def execute(client, code: str, timeout: float) -> None:
    """Run ``code`` in the kernel silently and wait for its reply; raise if it failed."""
    msg_id = client.execute(code, silent=True, store_history=False)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the kernel did not answer within {timeout} s")
        reply = await client.get_shell_msg(timeout=left)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    content = reply["content"]
    if content.get("status") != "ok":
        raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")
