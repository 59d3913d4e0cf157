"""The served model version and its batcher, swapped atomically when a newer version appears."""

import asyncio
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.batching import MicroBatcher
from app.metrics import ServiceMetrics
from app.model_store import Buckets, LoadedModel, ModelLoadError, TextExplanation, TextScore, load_version
from app.settings import Settings
from model.artifact import complete_versions, version_of
from model.grouping import in_length_groups
from model.threads import usable_cores

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServingUnit:
    """One loaded version and the batcher that feeds it; a request uses one unit from start to end."""

    model: LoadedModel
    batcher: MicroBatcher[str, TextScore]
    # Feeds the explain signature; None when the version was exported without one.
    explainer: MicroBatcher[str, TextExplanation] | None = None

    @property
    def batchers(self) -> list[MicroBatcher]:
        return [self.batcher] if self.explainer is None else [self.batcher, self.explainer]


def xla_buckets(settings: Settings) -> Buckets | None:
    """The shapes the settings ask XLA to compile (None: no XLA); MAX_BATCH_SIZE is always one."""
    if not settings.xla:
        return None
    largest = settings.max_batch_size
    batch_sizes = {size for size in settings.xla_batch_buckets if size < largest} | {largest}
    return Buckets(tuple(settings.xla_length_buckets), tuple(batch_sizes))


def model_workers(settings: Settings) -> int:
    """Batches computed at once: MODEL_WORKERS, or one per core and one more."""
    return settings.model_workers or usable_cores() + 1


def freeze_heap() -> None:
    """Take every object alive now out of the garbage collector's reach.

    A loaded TensorFlow model is hundreds of thousands of Python objects. Requests allocate enough
    that Python runs a full collection every few batches, and each one walks all of them with the
    GIL held, which stalls the event loop and the model call alike. Frozen objects are still freed
    by reference counting, but not when they sit in reference cycles, and a dropped model leaves
    many. So each freeze first unfreezes and collects: the old version's cycles go before the
    heap is frozen again.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ModelSlot:
    """Holds the unit being served and replaces it, off the request path, when a newer version loads.

    Loading and warming up happen in a worker thread while the current unit keeps serving. The swap
    is one assignment; the old unit's batcher then answers what it already queued and stops. A
    version that fails to load is logged, remembered and skipped, and the old unit keeps serving.
    """

    def __init__(self, settings: Settings, metrics: ServiceMetrics):
        self.settings = settings
        self.metrics = metrics
        self.current: ServingUnit | None = None
        self._failed: set[Path] = set()
        self._lock = asyncio.Lock()
        self._retiring: set[asyncio.Task] = set()

    async def refresh(self) -> bool:
        """Serve the newest version that loads, if it is newer than the one served; True on a swap."""
        async with self._lock:
            model = await asyncio.to_thread(self._load_newer)
            if model is None:
                return False
            await self._swap(model)
            return True

    def _load_newer(self) -> LoadedModel | None:
        served = self.current.model.version if self.current is not None else -1
        for path in reversed(complete_versions(self.settings.model_dir)):
            if version_of(path) <= served:
                return None
            if path in self._failed:
                continue
            try:
                return load_version(path, xla_buckets(self.settings))
            except ModelLoadError as error:
                self._failed.add(path)
                logger.error("skipping version %s: %s", path.name, error)
        return None

    async def _started_batcher(self, predict, max_batch_size: int, on_batch, workers: int = 1) -> MicroBatcher:
        """A started batcher with the settings' queue limit, waits and time-out."""
        batcher = MicroBatcher(
            predict,
            max_batch_size=max_batch_size,
            max_wait_s=self.settings.max_batch_wait_ms / 1000,
            idle_gap_s=self.settings.batch_idle_gap_ms / 1000,
            max_queue_items=self.settings.max_queue_items,
            timeout_s=self.settings.request_timeout_s,
            on_batch=on_batch,
            workers=workers,
        )
        await batcher.start()
        return batcher

    async def _swap(self, model: LoadedModel) -> None:
        # A compiled forward step cuts batches into calls by token counts itself; serving_default
        # is called once per group of texts of similar length in characters.
        predict: Callable[[list[str]], list[TextScore]] = model.predict
        if not model.plans_calls:
            predict = in_length_groups(model.predict, self.settings.length_group_size)
        workers = model_workers(self.settings)
        batcher = await self._started_batcher(
            predict, self.settings.max_batch_size, self.metrics.observe_batch, workers
        )
        # The first call of each model function in a thread sets up TensorFlow's state for that
        # thread; the batcher's threads pay it here, before the version answers requests.
        await batcher.run_in_each_worker(model.warm_up)
        explainer = None
        if model.can_explain:
            # One explanation is a batch of path points already, so few texts share a call.
            explainer = await self._started_batcher(
                model.explain, self.settings.max_explain_batch_size, self.metrics.observe_explain_batch
            )
        previous, self.current = self.current, ServingUnit(model, batcher, explainer)
        self.metrics.queue_depth.set_function(lambda: batcher.queue_depth)
        self.metrics.model.info({"version": str(model.version)})
        logger.info("serving model version %d", model.version)
        if previous is None:
            freeze_heap()
            return
        task = asyncio.create_task(self._retire(previous))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    @staticmethod
    async def _retire(unit: ServingUnit) -> None:
        await asyncio.gather(*(batcher.stop(drain=True) for batcher in unit.batchers))
        # The last reference to the old version goes first, so that the collection can free it.
        del unit
        freeze_heap()

    async def watch(self, interval_s: float) -> None:
        """Look for a newer version every `interval_s` seconds, until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            await self.refresh()

    async def close(self) -> None:
        """Answer everything queued, then stop."""
        units = [self.current] if self.current is not None else []
        self.current = None
        stops = [batcher.stop(drain=True) for unit in units for batcher in unit.batchers]
        await asyncio.gather(*self._retiring, *stops)
