"""Concurrent requests for one model answered by one model call: the adaptive micro-batcher."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable

# A model call measured quicker than this runs on the event loop itself: handing it to a thread and
# back (a queue, a wake-up of the loop, two futures) costs more CPU than such a call, and the loop is
# held for less than it takes to parse one request.
INLINE_SECONDS = 0.001
# Judged on the quickest of the last few calls: on a busy machine the OS preempts one call now and
# then, and that call's time says nothing of the model.
RECENT_CALLS = 8


class MicroBatcher:
    """Runs ``fn(list_of_inputs) -> list_of_outputs`` on batches of concurrent requests.

    Adaptive: a lone request runs at once (no added latency). When requests arrive while a batch
    runs, they queue, and the next batch takes everything queued, up to ``max_batch_size``
    inputs; under such concurrent load it also waits for more, so a burst fills a batch: up to
    ``max_wait`` seconds, and never longer than the last model call took (for a model that
    answers in 0.2 ms, waiting 2 ms would cost more latency than batching saves). One batch per
    model runs at a time, in ``executor``, so the event loop keeps accepting and answering
    requests meanwhile; except when one of the last calls took less than ``INLINE_SECONDS``:
    then the batch runs on the loop (the first call, not measured yet, goes to ``executor``).
    """

    def __init__(self, fn: Callable[[list], list], max_batch_size: int = 64, max_wait: float = 0.002, executor=None):
        if max_batch_size < 1 or max_wait < 0:
            raise ValueError("max_batch_size must be >= 1 and max_wait >= 0")
        self.fn = fn
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self.executor = executor
        self._queue: deque[tuple[list, asyncio.Future]] = deque()
        self._worker: asyncio.Task | None = None
        self._concurrent = False  # did the last batch hold more than one request?
        self._last_call = math.inf  # seconds the last model call took (none yet)
        self._recent: deque[float] = deque([math.inf], maxlen=RECENT_CALLS)
        self.batches = 0
        self.inputs = 0

    async def submit(self, inputs: list) -> list:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((inputs, future))
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._work())
        return await future

    def _take(self) -> list[tuple[list, asyncio.Future]]:
        batch, size = [], 0
        while self._queue and (not batch or size + len(self._queue[0][0]) <= self.max_batch_size):
            inputs, future = self._queue.popleft()
            if not future.cancelled():
                batch.append((inputs, future))
                size += len(inputs)
        return batch

    def _queued(self) -> int:
        return sum(len(inputs) for inputs, _ in self._queue)

    def _timed(self, inputs: list) -> list:
        """``fn(inputs)``, measured where it runs (a hop to a thread and back is not the model's time)."""
        started = time.perf_counter()
        outputs = self.fn(inputs)
        self._last_call = time.perf_counter() - started
        self._recent.append(self._last_call)
        return outputs

    async def _call(self, inputs: list) -> list:
        if min(self._recent) < INLINE_SECONDS:
            return self._timed(inputs)
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._timed, inputs)

    async def _work(self) -> None:
        while self._queue:
            wait = min(self.max_wait, self._last_call)
            if self._concurrent and wait > 0 and self._queued() < self.max_batch_size:
                await asyncio.sleep(wait)
            batch = self._take()
            if not batch:
                continue
            self._concurrent = len(batch) > 1
            flat = [x for inputs, _ in batch for x in inputs]
            self.batches += 1
            self.inputs += len(flat)
            try:
                outputs = await self._call(flat)
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exception=exc)
                else:  # one request's input broke the batch: answer each request on its own
                    for inputs, future in batch:
                        try:
                            _settle(future, await self._call(inputs))
                        except Exception as alone:
                            _settle(future, exception=alone)
                continue
            start = 0
            for inputs, future in batch:
                _settle(future, outputs[start : start + len(inputs)])
                start += len(inputs)


def _settle(future: asyncio.Future, result=None, exception: BaseException | None = None) -> None:
    if future.done():  # the client went away
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
