"""The micro-batcher: concurrent requests share model calls, a lone one does not wait."""

from __future__ import annotations

import asyncio
import threading
import time

from jupyter_mlapp.models.batching import MicroBatcher


def test_concurrent_requests_share_model_calls():
    calls = []

    def model(inputs):
        calls.append(len(inputs))
        time.sleep(0.02)  # a heavy model: requests pile up meanwhile
        return [x * 2 for x in inputs]

    async def run():
        batcher = MicroBatcher(model, max_batch_size=16, max_wait=0.001)
        results = await asyncio.gather(*[batcher.submit([i]) for i in range(40)])
        return batcher, results

    batcher, results = asyncio.run(run())
    assert results == [[i * 2] for i in range(40)]
    assert max(calls) <= 16 and len(calls) <= 6  # 40 requests in few calls
    assert batcher.inputs == 40


def test_a_lone_request_does_not_wait():
    async def run():
        batcher = MicroBatcher(lambda xs: xs, max_batch_size=8, max_wait=0.5)
        start = time.perf_counter()
        await batcher.submit([1])
        await batcher.submit([2])
        return time.perf_counter() - start

    assert asyncio.run(run()) < 0.4


def test_concurrent_requests_to_a_fast_model_wait_no_longer_than_a_model_call():
    async def run():
        batcher = MicroBatcher(lambda xs: xs, max_batch_size=4, max_wait=0.5)
        start = time.perf_counter()
        # 12 at once: three batches of 4, concurrent load, yet the model answers in microseconds:
        # waiting the full 0.5 s for more before each batch would only add latency.
        results = await asyncio.gather(*[batcher.submit([i]) for i in range(12)])
        return time.perf_counter() - start, results, batcher.batches

    took, results, batches = asyncio.run(run())
    assert results == [[i] for i in range(12)] and batches >= 3
    assert took < 0.4


def test_one_bad_input_fails_only_its_own_request():
    def model(inputs):
        if "bad" in inputs:
            raise ValueError("bad input")
        return inputs

    async def run():
        batcher = MicroBatcher(model, max_batch_size=8, max_wait=0.01)
        return await asyncio.gather(
            batcher.submit(["a"]), batcher.submit(["bad"]), batcher.submit(["c"]), return_exceptions=True
        )

    a, bad, c = asyncio.run(run())
    assert a == ["a"] and c == ["c"] and isinstance(bad, ValueError)


def test_model_calls_run_off_the_event_loop():
    loop_thread = []

    def model(inputs):
        loop_thread.append(threading.current_thread() is threading.main_thread())
        time.sleep(0.005)  # a real model's call: the loop must keep serving meanwhile
        return inputs

    async def run():
        batcher = MicroBatcher(model)
        await batcher.submit([1])
        await batcher.submit([2])

    asyncio.run(run())
    assert loop_thread == [False, False]


def test_a_model_measured_quicker_than_a_thread_hop_runs_on_the_loop_and_still_batches():
    calls = []

    def model(inputs):
        calls.append((len(inputs), threading.current_thread() is threading.main_thread()))
        return [x * 2 for x in inputs]

    async def run():
        batcher = MicroBatcher(model, max_batch_size=16, max_wait=0.001)
        first = await batcher.submit([0])  # not measured yet: in a thread
        return [first, *await asyncio.gather(*[batcher.submit([i]) for i in range(1, 41)])]

    results = asyncio.run(run())
    assert results == [[i * 2] for i in range(41)]
    assert calls == [(1, False), (16, True), (16, True), (8, True)]


def test_one_slow_call_of_a_quick_model_keeps_it_on_the_loop():
    on_loop = []

    def model(inputs):
        on_loop.append(threading.current_thread() is threading.main_thread())
        if len(on_loop) == 3:
            time.sleep(0.01)  # as when the OS preempts the call on a busy machine
        return inputs

    async def run():
        batcher = MicroBatcher(model)
        for i in range(5):
            await batcher.submit([i])

    asyncio.run(run())
    assert on_loop == [False, True, True, True, True]
