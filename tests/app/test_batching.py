"""The micro-batcher on its own, with a fake batch function that records every call."""

import asyncio
import threading
import time

import pytest

from app.batching import BatcherClosedError, BatchStats, BatchTimeoutError, MicroBatcher, QueueFullError


class RecordingPredict:
    """Doubles each number; fails any batch holding a negative one; remembers the batches it saw."""

    def __init__(self, delay_s: float = 0.0):
        self.batches: list[list[int]] = []
        self.delay_s = delay_s
        self.threads: set[str] = set()

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay_s)
        if any(item < 0 for item in items):
            raise ValueError("negative input")
        return [2 * item for item in items]


class GatedPredict(RecordingPredict):
    """RecordingPredict whose every call announces itself and then waits until the test lets it finish,
    so that a test decides what is queued while a batch runs, instead of racing sleeps."""

    def __init__(self):
        super().__init__()
        self.entered = threading.Semaphore(0)
        self.proceed = threading.Semaphore(0)

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.entered.release()
        if not self.proceed.acquire(timeout=30):
            raise TimeoutError("the test never let this batch finish")
        if any(item < 0 for item in items):
            raise ValueError("negative input")
        return [2 * item for item in items]

    async def next_call(self) -> None:
        """Wait until a call of the batch function has started."""
        assert await asyncio.to_thread(self.entered.acquire, timeout=30), "no batch started"

    def finish(self, calls: int = 1) -> None:
        for _ in range(calls):
            self.proceed.release()


async def queued(batcher: MicroBatcher, items: list[int]) -> asyncio.Task:
    """Submit `items` in a task of their own and let it reach the queue."""
    task = asyncio.create_task(batcher.submit(items))
    await asyncio.sleep(0)
    return task


async def running(predict, max_batch_size: int = 8, max_wait_s: float = 0.01) -> MicroBatcher:
    batcher = MicroBatcher(predict, max_batch_size=max_batch_size, max_wait_s=max_wait_s)
    await batcher.start()
    return batcher


def test_results_come_back_in_order_for_each_caller():
    async def scenario():
        predict = RecordingPredict()
        batcher = await running(predict)
        answers = await asyncio.gather(*(batcher.submit([n, n + 100, n + 200]) for n in range(20)))
        await batcher.stop()
        return answers

    answers = asyncio.run(scenario())
    assert answers == [[2 * n, 2 * (n + 100), 2 * (n + 200)] for n in range(20)]


def test_concurrent_items_are_coalesced_but_never_beyond_the_max_batch_size():
    async def scenario():
        # While one batch runs, the others queue up and fill the next batches.
        predict = GatedPredict()
        batcher = await running(predict, max_batch_size=5)
        first = await queued(batcher, [0])
        await predict.next_call()
        rest = [await queued(batcher, [n]) for n in range(1, 23)]
        predict.finish(calls=23)
        await asyncio.gather(first, *rest)
        await batcher.stop()
        return predict

    predict = asyncio.run(scenario())
    assert [len(batch) for batch in predict.batches] == [1, 5, 5, 5, 5, 2]
    assert [item for batch in predict.batches for item in batch] == list(range(23))


def test_a_lone_item_never_waits_for_company():
    async def scenario():
        batcher = await running(RecordingPredict(), max_wait_s=0.5)
        timings = []
        for item in range(3):
            started = time.perf_counter()
            await batcher.submit([item])
            timings.append(time.perf_counter() - started)
        await batcher.stop()
        return timings

    assert max(asyncio.run(scenario())) < 0.1


async def later(batcher: MicroBatcher, item: int, delay_s: float) -> list[int]:
    await asyncio.sleep(delay_s)
    return await batcher.submit([item])


# The two tests below are about time itself (how long a batch waits for company), so they rest on
# sleeps against the idle gap and the cap; they are slow tests for that reason.
@pytest.mark.slow
def test_under_load_a_batch_waits_for_as_many_items_as_recently_took_turns():
    async def scenario():
        predict = RecordingPredict()
        batcher = MicroBatcher(predict, max_batch_size=8, max_wait_s=0.5, idle_gap_s=0.05)
        await batcher.start()
        await asyncio.gather(*(batcher.submit([item]) for item in (1, 2, 3)))  # A shared batch: load.
        await asyncio.gather(
            later(batcher, 4, 0),
            later(batcher, 5, 0.02),
            later(batcher, 6, 0.04),
            later(batcher, 7, 0.06),
            later(batcher, 8, 0.4),
        )
        await batcher.stop()
        return predict.batches

    # 5 and 6 arrive within the gap and join 4 until the batch holds 3, as many as took turns before;
    # 7 then waits for company that does not come within the gap, and 8 follows a lone batch.
    assert asyncio.run(scenario()) == [[1, 2, 3], [4, 5, 6], [7], [8]]


@pytest.mark.slow
def test_under_load_the_wait_is_capped_by_the_max_wait():
    async def scenario():
        predict = RecordingPredict()
        batcher = MicroBatcher(predict, max_batch_size=64, max_wait_s=0.1, idle_gap_s=0.05)
        await batcher.start()
        await asyncio.gather(*(batcher.submit([0]) for _ in range(32)))
        await asyncio.gather(*(later(batcher, item, 0.02 * item) for item in range(1, 16)))
        await batcher.stop()
        return predict.batches[1:]

    batches = asyncio.run(scenario())
    # Items come every 20 ms, always within the gap and never as many as 32, so only the 100 ms
    # cap closes a batch.
    assert len(batches) >= 2
    assert 3 <= len(batches[0]) <= 8
    assert sorted(item for batch in batches for item in batch) == list(range(1, 16))


def test_an_error_reaches_only_the_callers_of_its_batch():
    async def scenario():
        predict = GatedPredict()
        batcher = await running(predict, max_batch_size=2, max_wait_s=0.0)
        first = await queued(batcher, [1])
        await predict.next_call()  # The first batch is running; the next two items form the second.
        failing, sharing = await queued(batcher, [-1]), await queued(batcher, [5])
        predict.finish()
        await predict.next_call()
        last = await queued(batcher, [7])
        predict.finish(calls=3)
        results = await asyncio.gather(first, failing, sharing, last, return_exceptions=True)
        after = await batcher.submit([3])
        await batcher.stop()
        return predict.batches, results, after

    batches, results, after = asyncio.run(scenario())
    assert batches[:3] == [[1], [-1, 5], [7]]
    assert results[0] == [2]
    assert isinstance(results[1], ValueError) and isinstance(results[2], ValueError)
    assert results[3] == [14]
    assert after == [6]


def test_predict_runs_off_the_event_loop_thread():
    async def scenario():
        predict = RecordingPredict()
        batcher = await running(predict)
        await batcher.submit([1, 2])
        await batcher.stop()
        return predict.threads

    threads = asyncio.run(scenario())
    assert threads and threading.main_thread().name not in threads


def test_a_stopped_batcher_refuses_items():
    async def scenario():
        batcher = await running(RecordingPredict())
        await batcher.stop()
        await batcher.submit([1])

    with pytest.raises(BatcherClosedError):
        asyncio.run(scenario())


def test_a_wrong_number_of_results_is_an_error_for_the_callers():
    async def scenario():
        batcher = await running(lambda items: items[:-1])
        try:
            await batcher.submit([1, 2])
        finally:
            await batcher.stop()

    with pytest.raises(ValueError, match="1 results for 2 items"):
        asyncio.run(scenario())


def test_a_full_queue_refuses_new_items_until_it_drains():
    async def scenario():
        predict = GatedPredict()
        batcher = MicroBatcher(predict, max_batch_size=2, max_wait_s=0.0, max_queue_items=3)
        await batcher.start()
        in_model = await queued(batcher, [1, 2])
        await predict.next_call()  # The first two items are in the model; the queue is empty again.
        waiting = await queued(batcher, [3, 4, 5])
        with pytest.raises(QueueFullError):
            await batcher.submit([6])
        predict.finish(calls=4)
        results = await asyncio.gather(in_model, waiting)
        after = await batcher.submit([6])
        await batcher.stop()
        return results, after

    results, after = asyncio.run(scenario())
    assert results == [[2, 4], [6, 8, 10]]
    assert after == [12]


def test_a_caller_that_waits_too_long_gets_a_timeout_and_its_items_are_skipped():
    async def scenario():
        predict = GatedPredict()
        batcher = MicroBatcher(predict, max_batch_size=1, max_wait_s=0.0, timeout_s=0.1)
        await batcher.start()
        first = await queued(batcher, [1])
        await predict.next_call()
        with pytest.raises(BatchTimeoutError):
            await batcher.submit([2])  # Queued behind a batch that is held, with a 0.1 s budget.
        with pytest.raises(BatchTimeoutError):
            await first
        predict.finish(calls=2)
        await batcher.stop()
        return predict.batches

    # The item that timed out in the queue never reached the model.
    assert asyncio.run(scenario()) == [[1]]


def test_every_batch_reports_its_size_waits_and_inference_time():
    async def scenario():
        seen: list[BatchStats] = []
        batcher = MicroBatcher(RecordingPredict(delay_s=0.03), max_batch_size=2, max_wait_s=0.0, on_batch=seen.append)
        await batcher.start()
        await asyncio.gather(*(batcher.submit([n]) for n in range(5)))
        await batcher.stop()
        return seen

    seen = asyncio.run(scenario())
    assert [stats.size for stats in seen] == [2, 2, 1]
    assert all(len(stats.queue_waits_s) == stats.size for stats in seen)
    assert all(stats.inference_s >= 0.03 for stats in seen)
    assert max(wait for stats in seen for wait in stats.queue_waits_s) >= 0.03


def test_with_two_workers_a_second_batch_runs_while_the_first_is_still_running():
    async def scenario():
        predict = GatedPredict()
        batcher = MicroBatcher(predict, max_batch_size=2, max_wait_s=0.0, workers=2)
        await batcher.start()
        first = await queued(batcher, [1])
        await predict.next_call()
        second = await queued(batcher, [3, 4])
        # The first batch has not finished, yet the second one starts on the other worker.
        await predict.next_call()
        third = await queued(batcher, [5])
        await asyncio.sleep(0.05)
        # Both workers are busy: the third batch waits for one of them.
        assert len(predict.batches) == 2
        predict.finish(3)
        assert await first == [2] and await second == [6, 8] and await third == [10]
        await batcher.stop()
        return predict.batches

    assert asyncio.run(scenario()) == [[1], [3, 4], [5]]


def test_with_every_worker_free_a_batch_leaves_each_of_them_a_share_of_the_queue():
    async def scenario():
        predict = GatedPredict()
        batcher = MicroBatcher(predict, max_batch_size=8, max_wait_s=0.0, workers=2)
        await batcher.start()
        request = await queued(batcher, [1, 2, 3, 4, 5])
        # Both calls start before either finishes: the five items are computed on two workers.
        await predict.next_call()
        await predict.next_call()
        predict.finish(2)
        assert await request == [2, 4, 6, 8, 10]
        await batcher.stop()
        return predict.batches

    assert asyncio.run(scenario()) == [[1, 2, 3], [4, 5]]


def test_with_one_worker_batches_run_one_after_the_other():
    async def scenario():
        predict = GatedPredict()
        batcher = await running(predict, max_batch_size=2, max_wait_s=0.0)
        first = await queued(batcher, [1, 2])
        await predict.next_call()
        second = await queued(batcher, [3, 4])
        await asyncio.sleep(0.05)
        assert len(predict.batches) == 1
        predict.finish(2)
        assert await first == [2, 4] and await second == [6, 8]
        await batcher.stop()

    asyncio.run(scenario())


@pytest.mark.parametrize("workers", [1, 3])
def test_run_in_each_worker_runs_once_on_every_worker_thread(workers: int):
    async def scenario():
        predict = RecordingPredict()
        batcher = MicroBatcher(predict, max_batch_size=4, max_wait_s=0.0, workers=workers)
        await batcher.start()
        threads: list[str] = []
        await batcher.run_in_each_worker(lambda: threads.append(threading.current_thread().name))
        assert len(threads) == workers == len(set(threads))
        # The batches run on those same threads.
        await asyncio.gather(*(batcher.submit([item]) for item in range(20)))
        assert predict.threads <= set(threads)
        await batcher.stop()

    asyncio.run(scenario())
