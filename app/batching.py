"""Micro-batching: coalesce items from concurrent requests into one call of a batch function."""

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class BatcherClosedError(RuntimeError):
    """The batcher is not running, so it cannot take items."""


@dataclass
class _Pending(Generic[Item, Result]):
    item: Item
    future: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class MicroBatcher(Generic[Item, Result]):
    """Queue items and run `predict` on batches of at most `max_batch_size` of them.

    A batch starts with the oldest queued item and takes whatever else is queued, waiting at most
    `max_wait_s` for more. `predict` runs on one worker thread, off the event loop, so batches run
    one after the other while the next one fills up. When `predict` raises, only the callers whose
    items were in that batch get the error.
    """

    def __init__(self, predict: Callable[[list[Item]], Sequence[Result]], max_batch_size: int, max_wait_s: float):
        self._predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self._queue: asyncio.Queue[_Pending[Item, Result]] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")
        self._worker: asyncio.Task | None = None

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._run_forever(), name="micro-batcher")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        self._executor.shutdown(wait=True)

    async def submit(self, items: Sequence[Item]) -> list[Result]:
        """Results for `items`, in their order."""
        if self._worker is None:
            raise BatcherClosedError("the batcher is not running")
        pending = [_Pending(item) for item in items]
        for entry in pending:
            self._queue.put_nowait(entry)
        return list(await asyncio.gather(*(entry.future for entry in pending)))

    async def _run_forever(self) -> None:
        while True:
            batch = await self._next_batch()
            await self._run_batch(batch)

    async def _next_batch(self) -> list[_Pending[Item, Result]]:
        batch = [await self._queue.get()]
        deadline = asyncio.get_running_loop().time() + self.max_wait_s
        while len(batch) < self.max_batch_size:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _run_batch(self, batch: list[_Pending[Item, Result]]) -> None:
        # Callers that went away (a closed connection) need no answer.
        live = [entry for entry in batch if not entry.future.done()]
        if not live:
            return
        call = asyncio.get_running_loop().run_in_executor(self._executor, self._predict, [e.item for e in live])
        await asyncio.wait([call])
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
