"""Micro-batching: coalesce items from concurrent requests into one call of a batch function."""

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class BatcherClosedError(RuntimeError):
    """The batcher is not running, so it cannot take items."""


class QueueFullError(RuntimeError):
    """The queue already holds as many items as it may; the caller should retry later."""


class BatchTimeoutError(TimeoutError):
    """The items were not answered within the batcher's timeout."""


@dataclass(frozen=True)
class BatchStats:
    size: int
    # How long each item waited in the queue before its batch started.
    queue_waits_s: list[float]
    inference_s: float


@dataclass
class _Pending(Generic[Item]):
    item: Item
    queued_at: float = field(default_factory=time.perf_counter)
    future: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class MicroBatcher(Generic[Item, Result]):
    """Queue items and run `predict` on batches of at most `max_batch_size` of them.

    A batch starts with the oldest queued item and takes whatever else is queued (its share, when
    other workers are free too); under load it waits at most `max_wait_s` for more (see
    `_next_batch`). `predict` runs on `workers` threads, off the event loop: up to that many
    batches run at once, and the next one fills up meanwhile. When
    `predict` raises, only the callers whose items were in that batch get the error. At most
    `max_queue_items` items wait at once, and a caller waits at most `timeout_s` for its results.
    """

    def __init__(
        self,
        predict: Callable[[list[Item]], Sequence[Result]],
        max_batch_size: int,
        max_wait_s: float,
        idle_gap_s: float = 0.003,
        max_queue_items: int | None = None,
        timeout_s: float | None = None,
        on_batch: Callable[[BatchStats], None] | None = None,
        workers: int = 1,
    ):
        if workers < 1:
            raise ValueError("a batcher needs at least one worker thread")
        self._predict = predict
        self.workers = workers
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.idle_gap_s = idle_gap_s
        # Sizes of the last batches, one more than there are workers: how many callers take turns.
        self._recent_sizes: deque[int] = deque([0] * (workers + 1), maxlen=workers + 1)
        # Workers running a batch now.
        self._busy = 0
        self.max_queue_items = max_queue_items
        self.timeout_s = timeout_s
        self._on_batch = on_batch
        self._queue: asyncio.Queue[_Pending[Item]] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="predict")
        self._worker: asyncio.Task | None = None
        self._running: set[asyncio.Task] = set()
        self._closing = False

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._run_forever(), name="micro-batcher")

    async def stop(self, drain: bool = False) -> None:
        """Stop taking items; with `drain`, answer everything already queued first."""
        self._closing = True
        if drain and self._worker is not None:
            await self._queue.join()
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        self._executor.shutdown(wait=True)

    async def run_in_each_worker(self, function: Callable[[], object], timeout_s: float = 600.0) -> None:
        """Run `function` once on every thread that runs `predict` (to warm up what TensorFlow sets
        up per thread). Each run holds its thread until all have run, so no thread runs it twice."""
        barrier = threading.Barrier(self.workers, timeout=timeout_s)

        def run_then_wait() -> None:
            try:
                function()
            finally:
                barrier.wait()

        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._executor, run_then_wait) for _ in range(self.workers)))

    async def submit(self, items: Sequence[Item]) -> list[Result]:
        """Results for `items`, in their order."""
        if self._worker is None or self._closing:
            raise BatcherClosedError("the batcher is not running")
        if self.max_queue_items is not None and self._queue.qsize() + len(items) > self.max_queue_items:
            raise QueueFullError(
                f"the queue holds {self._queue.qsize()} items; at most {self.max_queue_items} may wait"
            )
        pending = [_Pending(item) for item in items]
        for entry in pending:
            self._queue.put_nowait(entry)
        answers = asyncio.gather(*(entry.future for entry in pending))
        try:
            # On time-out the futures are cancelled, so the worker skips them.
            return list(await asyncio.wait_for(answers, self.timeout_s))
        except TimeoutError as error:
            raise BatchTimeoutError(f"no answer within {self.timeout_s} s") from error

    async def _run_forever(self) -> None:
        free_workers = asyncio.Semaphore(self.workers)
        while True:
            await free_workers.acquire()
            batch = await self._next_batch()
            self._busy += 1
            task = asyncio.create_task(self._answer(batch, free_workers))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _answer(self, batch: list[_Pending[Item]], free_workers: asyncio.Semaphore) -> None:
        try:
            await self._run_batch(batch)
        finally:
            self._busy -= 1
            free_workers.release()
            for _ in batch:
                self._queue.task_done()

    async def _next_batch(self) -> list[_Pending[Item]]:
        """The oldest item and whatever else is queued; under load, also what keeps arriving.

        A lone caller never waits for company. When the previous batch was shared, the callers of
        the last few batches (one more than there are workers) are likely on their way back, so the
        batch waits until its share of them has joined it (a full batch at most), as long as each
        one arrives within `idle_gap_s` of the last and `max_wait_s` has not passed. When other
        workers are free as well, a batch takes only its share of what is queued and leaves the
        rest to them, so that every worker computes rather than one of them doing all.
        """
        batch = [await self._queue.get()]
        free = self.workers - self._busy
        limit = min(self.max_batch_size, -(-(len(batch) + self._queue.qsize()) // free))
        self._drain_into(batch, limit)
        target = min(limit if free > 1 else self.max_batch_size, -(-sum(self._recent_sizes) // self.workers))
        if self._recent_sizes[-1] > 1:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.max_wait_s
            while len(batch) < target:
                timeout = min(self.idle_gap_s, deadline - loop.time())
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout))
                except TimeoutError:
                    break
                self._drain_into(batch, target)
        self._recent_sizes.append(len(batch))
        return batch

    def _drain_into(self, batch: list[_Pending[Item]], limit: int) -> None:
        while len(batch) < limit and not self._queue.empty():
            batch.append(self._queue.get_nowait())

    async def _run_batch(self, batch: list[_Pending[Item]]) -> None:
        # Callers that went away (a closed connection, a time-out) need no answer.
        live = [entry for entry in batch if not entry.future.done()]
        if not live:
            return
        started = time.perf_counter()
        call = asyncio.get_running_loop().run_in_executor(self._executor, self._predict, [e.item for e in live])
        await asyncio.wait([call])
        if self._on_batch is not None:
            waits = [started - entry.queued_at for entry in live]
            self._on_batch(BatchStats(len(live), waits, time.perf_counter() - started))
        error = call.exception()
        if error is None and len(call.result()) != len(live):
            error = ValueError(f"predict returned {len(call.result())} results for {len(live)} items")
        if error is not None:
            # A failed batch answers its own callers with the error; the batcher goes on.
            logger.error("a batch of %d items failed: %r", len(live), error)
            for entry in live:
                if not entry.future.done():
                    entry.future.set_exception(error)
            return
        for entry, result in zip(live, call.result(), strict=True):
            if not entry.future.done():
                entry.future.set_result(result)
