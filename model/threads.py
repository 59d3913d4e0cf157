"""How TensorFlow's thread pools are sized, for the service and for training alike."""

import logging
import os

import tensorflow as tf

logger = logging.getLogger(__name__)


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's)."""
    return len(os.sched_getaffinity(0))


def configure_threads(intra_op: int | None, inter_op: int | None) -> None:
    """Size TensorFlow's thread pools: threads that one op may split its work over (`intra_op`) and
    ops that may run at once (`inter_op`); None means one per usable core. Only possible before
    TensorFlow runs its first op."""
    if intra_op is None:
        intra_op = usable_cores()
    if inter_op is None:
        inter_op = usable_cores()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError as error:
        logger.warning("TensorFlow is already running, its thread settings stay as they are: %s", error)
        return
    logger.info("TensorFlow threads: %d per op, %d ops at a time", intra_op, inter_op)
