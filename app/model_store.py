"""Load exported versions (SavedModels that take raw texts, with metadata.json beside them) and score texts.

Scoring is three steps, as in Hugging Face pipelines: `preprocess` turns texts into the model's
input, one `forward` call runs the model, and `postprocess` turns its outputs into one `TextScore`
per text. How batches are cut into calls (length groups, the micro-batcher) is composed around
`LoadedModel.predict` where the service builds its units, not here.
"""

import logging
import math
import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from model import artifact
from model.artifact import (
    EXPLAIN_SIGNATURE_NAME,
    INPUT_TEXTS,
    INPUT_TOKEN_IDS,
    OUTPUT_KNOWN_TOKENS,
    OUTPUT_PROBABILITY,
    OUTPUT_TOKEN_IDS,
    PADDING_ID,
    SCORE_TOKENS_SIGNATURE,
    SIGNATURE_NAME,
    TOKENIZE_SIGNATURE,
    MetadataError,
    read_metadata,
    version_of,
)

logger = logging.getLogger(__name__)
# Texts of a few lengths, so that the first real request does not pay for graph and kernel set-up.
WARM_UP_TEXTS = ["good", "a fine film " * 20, "not my kind of movie at all " * 60]

# The model's outputs by name, as the serving_default signature returns them.
Outputs = dict[str, tf.Tensor]
Forward = Callable[[tf.Tensor], Outputs]


class ModelLoadError(RuntimeError):
    """A version exists but cannot be loaded."""


@dataclass(frozen=True)
class TextScore:
    positive_probability: float
    # Words of the text the model knows; 0 means the model has nothing to judge it on.
    known_token_count: int


def preprocess(texts: list[str]) -> tf.Tensor:
    return tf.constant(texts, dtype=tf.string)


def postprocess(outputs: Outputs) -> list[TextScore]:
    probabilities = outputs[OUTPUT_PROBABILITY].numpy().tolist()
    counts = outputs[OUTPUT_KNOWN_TOKENS].numpy().tolist()
    return [TextScore(probability, count) for probability, count in zip(probabilities, counts, strict=True)]


def signature_forward(signature: Any) -> Forward:
    """The plain serving_default signature as the forward step."""

    def forward(texts: tf.Tensor) -> Outputs:
        return signature(**{INPUT_TEXTS: texts})

    return forward


@dataclass(frozen=True)
class Buckets:
    """The shapes XLA compiles for: token counts and batch sizes. The largest batch size is the most
    texts per compiled call; a longer text than the largest length compiles on the request path."""

    lengths: tuple[int, ...]
    batch_sizes: tuple[int, ...]

    def up_to(self, sequence_length: int | None) -> "Buckets":
        """Sorted, with the lengths below the model's sequence length and that length itself (when
        the metadata records it)."""
        if sequence_length is None:
            lengths = {length for length in self.lengths if length > 0}
        else:
            lengths = {length for length in self.lengths if 0 < length < sequence_length} | {sequence_length}
        return Buckets(tuple(sorted(lengths)), tuple(sorted({size for size in self.batch_sizes if size > 0})))


def _bucket(size: int, sizes: tuple[int, ...]) -> int:
    """The smallest of `sizes` that holds `size`; `size` itself beyond the largest."""
    index = bisect_left(sizes, size)
    return sizes[index] if index < len(sizes) else size


@dataclass(frozen=True)
class ShapeTiming:
    """How long one call of a compiled shape takes: when its texts hold one token, and when they fill
    every step. Between the two it grows with the longest text, when the version's recurrent layers
    stop after the longest text; an older export computes every step, and then the two are equal."""

    one_step_s: float
    every_step_s: float

    def seconds(self, longest: int, width: int) -> float:
        if width <= 1:
            return self.every_step_s
        share = min(max(longest - 1, 0) / (width - 1), 1.0)
        return self.one_step_s + share * (self.every_step_s - self.one_step_s)


def plan_calls(
    sorted_lengths: list[int], batch_sizes: tuple[int, ...], call_time: Callable[[int, int], float]
) -> list[tuple[int, int]]:
    """Model calls for texts of these token counts (shortest first), as (start, end) slices, that
    take the least time in all by `call_time(texts, longest)` (dynamic programming over the slices).

    A call's time depends on its number of texts only through the batch bucket that holds them, so
    for a call that ends at a given text only the largest number of texts of each batch bucket
    needs trying: more texts cost the same, and leave fewer for the other calls.
    """
    count = len(sorted_lengths)
    least = [0.0] + [math.inf] * count
    first = [0] * (count + 1)
    for end in range(1, count + 1):
        for size in batch_sizes:
            start = max(0, end - size)
            total = least[start] + call_time(end - start, sorted_lengths[end - 1])
            if total < least[end]:
                least[end], first[end] = total, start
            if start == 0:
                break
    calls = []
    end = count
    while end > 0:
        calls.append((first[end], end))
        end = first[end]
    return calls[::-1]


class CompiledForward:
    """serving_default's two halves: the string ops as exported, then token ids to probabilities
    compiled by XLA on padded shapes (`Buckets`), every one of them compiled by `compile_all`.

    A batch is tokenized once and then cut into model calls by its token counts (`plan`), so that
    texts of similar length share a call, as many as the times of the compiled shapes, measured
    at load, say is cheapest: the recurrent layers run as many steps as a call's longest text
    holds. Padding with id 0 changes no score, and the padded rows are dropped.
    """

    def __init__(self, saved: Any, buckets: Buckets):
        # The loaded object owns the variables; a function traced here holds them only weakly.
        self._saved = saved
        self._tokenize = saved.signatures[TOKENIZE_SIGNATURE]
        score = saved.signatures[SCORE_TOKENS_SIGNATURE]
        self.buckets = buckets

        @tf.function(jit_compile=True)
        def probabilities(token_ids: tf.Tensor) -> tf.Tensor:
            return score(**{INPUT_TOKEN_IDS: token_ids})[OUTPUT_PROBABILITY]

        self._probabilities = probabilities
        # One traced function per shape, called directly: no retracing checks on the request path.
        self._by_shape: dict[tuple[int, int], Any] = {}
        # How long a call of each compiled shape takes, measured at load; what `plan` minimises.
        self._timings: dict[tuple[int, int], ShapeTiming] = {}

    def __call__(self, texts: tf.Tensor) -> Outputs:
        tokens = self._tokenize(**{INPUT_TEXTS: texts})
        token_ids = tokens[OUTPUT_TOKEN_IDS].numpy()
        # Texts are padded on the right, so a text's token count is where its padding starts.
        lengths = np.count_nonzero(token_ids != PADDING_ID, axis=1)
        order = np.argsort(lengths, kind="stable")
        probabilities = np.empty(len(token_ids), dtype=np.float32)
        for start, end in self.plan(lengths[order]):
            rows = order[start:end]
            probabilities[rows] = self._padded_call(token_ids[rows, : lengths[rows[-1]]])
        return {OUTPUT_PROBABILITY: tf.constant(probabilities), OUTPUT_KNOWN_TOKENS: tokens[OUTPUT_KNOWN_TOKENS]}

    def plan(self, sorted_lengths: np.ndarray) -> list[tuple[int, int]]:
        """Model calls for texts of these token counts (shortest first); see `plan_calls`."""
        return plan_calls([int(length) for length in sorted_lengths], self.buckets.batch_sizes, self.call_time)

    def call_time(self, texts: int, longest: int) -> float:
        """The expected seconds of one call of `texts` texts whose longest holds `longest` tokens; for
        a shape not yet timed, its number of token steps."""
        shape = (_bucket(texts, self.buckets.batch_sizes), _bucket(longest, self.buckets.lengths))
        timing = self._timings.get(shape)
        return float(shape[0] * max(longest, 1)) if timing is None else timing.seconds(longest, shape[1])

    def _padded_call(self, token_ids: np.ndarray, loading: bool = False) -> np.ndarray:
        rows, steps = token_ids.shape
        shape = (_bucket(rows, self.buckets.batch_sizes), _bucket(steps, self.buckets.lengths))
        padded = np.zeros(shape, dtype=token_ids.dtype)
        padded[:rows, :steps] = token_ids
        return self._function(shape, loading)(tf.constant(padded)).numpy()[:rows]

    def _function(self, shape: tuple[int, int], loading: bool) -> Any:
        function = self._by_shape.get(shape)
        if function is None:
            if not loading:
                logger.warning("compiling shape %s on the request path: it is outside every bucket", shape)
            function = self._probabilities.get_concrete_function(tf.TensorSpec(shape, tf.int64))
            self._by_shape[shape] = function
        return function

    def compiled_shapes(self) -> set[tuple[int, int]]:
        return set(self._by_shape)

    def shape_timings(self) -> dict[tuple[int, int], ShapeTiming]:
        return dict(self._timings)

    def compile_all(self) -> None:
        """Compile every bucket now (or, once compiled, run each once), so that no request waits;
        the first time, also time each shape for `plan`."""
        started = time.perf_counter()
        for batch_size in self.buckets.batch_sizes:
            for length in self.buckets.lengths:
                self._padded_call(np.zeros((batch_size, length), dtype=np.int64), loading=True)
                if (batch_size, length) not in self._timings:
                    self._timings[(batch_size, length)] = self._timed(batch_size, length)
        self._timings = _monotone(self._timings)
        logger.info("%d XLA shapes ready in this thread in %.1f s", len(self._by_shape), time.perf_counter() - started)

    def _timed(self, batch_size: int, length: int) -> ShapeTiming:
        """A shape's call time with texts of one token and with texts that fill it."""
        # Any token id but padding's: the time depends on how many steps are real, not on the words.
        token = PADDING_ID + 1
        one_step = np.full((batch_size, length), PADDING_ID, dtype=np.int64)
        one_step[:, 0] = token
        every_step = np.full((batch_size, length), token, dtype=np.int64)
        one_step_s = _fastest_of(partial(self._padded_call, one_step), 3)
        # Noise can time the fuller call quicker; it never is.
        return ShapeTiming(one_step_s, max(one_step_s, _fastest_of(partial(self._padded_call, every_step), 3)))


def _fastest_of(call: Callable[[], object], repeats: int) -> float:
    """The shortest of `repeats` timed calls: the least disturbed by whatever else ran."""
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return min(durations)


def _monotone(timings: dict[tuple[int, int], ShapeTiming]) -> dict[tuple[int, int], ShapeTiming]:
    """Each shape's times raised to the longest of any shape it contains, so that timing noise never
    makes a larger shape look cheaper than a smaller one."""

    def contained(shape: tuple[int, int]) -> list[ShapeTiming]:
        return [timing for (rows, steps), timing in timings.items() if rows <= shape[0] and steps <= shape[1]]

    return {
        shape: ShapeTiming(
            max(timing.one_step_s for timing in contained(shape)),
            max(timing.every_step_s for timing in contained(shape)),
        )
        for shape in timings
    }


@dataclass(frozen=True)
class TokenAttribution:
    # The token as the model's tokenizer wrote it (lower-cased, punctuation removed).
    token: str
    # Code point offsets into the text (Python string indexes); -1 if the token could not be located.
    start: int
    end: int
    # Share of the calibrated log-odds, above zero towards positive; None for a token not read.
    attribution: float | None
    # Whether truncation of a long text dropped the token before the model read it.
    truncated: bool


@dataclass(frozen=True)
class TextExplanation:
    score: TextScore
    tokens: list[TokenAttribution]


@dataclass(frozen=True)
class LoadedModel:
    version: int
    metadata: dict[str, Any]
    # The version's serving_default signature, exactly as any TensorFlow program calls it.
    signature: Any
    # One model call: a batch of texts in, the signature's outputs out.
    forward: Forward
    # The explain signature; None for versions exported before it existed.
    explainer: Any = None

    @property
    def labels(self) -> list[str]:
        return self.metadata["labels"]

    def predict(self, texts: list[str]) -> list[TextScore]:
        """Scores in the order of `texts`, from one model call."""
        return postprocess(self.forward(preprocess(texts)))

    def warm_up(self) -> None:
        """Run every compiled shape and a few texts of different lengths in the calling thread.

        TensorFlow sets up state per thread and function on a first call: up to a hundred
        milliseconds for a compiled shape. The thread that will serve requests calls this first.
        """
        if isinstance(self.forward, CompiledForward):
            self.forward.compile_all()
        self.predict(WARM_UP_TEXTS)
        for text in WARM_UP_TEXTS:
            self.predict([text])
        if self.can_explain:
            self.explain(WARM_UP_TEXTS[:2])

    @property
    def plans_calls(self) -> bool:
        """Whether `predict` cuts a batch into model calls of similar token counts itself."""
        return isinstance(self.forward, CompiledForward)

    @property
    def can_explain(self) -> bool:
        return self.explainer is not None

    def explain(self, texts: list[str]) -> list[TextExplanation]:
        """Each text's score and its tokens with their attributions, from one call of the explain signature."""
        outputs = {
            name: value.numpy()
            for name, value in self.explainer(**{INPUT_TEXTS: tf.constant(texts, dtype=tf.string)}).items()
        }
        explanations = []
        for index in range(len(texts)):
            count = int(outputs[artifact.OUTPUT_TOKEN_COUNT][index])
            columns = (
                outputs[artifact.OUTPUT_TOKENS][index][:count].tolist(),
                outputs[artifact.OUTPUT_TOKEN_START][index][:count].tolist(),
                outputs[artifact.OUTPUT_TOKEN_END][index][:count].tolist(),
                outputs[artifact.OUTPUT_ATTRIBUTION][index][:count].tolist(),
                outputs[artifact.OUTPUT_TRUNCATED][index][:count].tolist(),
            )
            tokens = [
                TokenAttribution(token.decode("utf-8"), start, end, None if truncated else attribution, truncated)
                for token, start, end, attribution, truncated in zip(*columns, strict=True)
            ]
            score = TextScore(float(outputs[OUTPUT_PROBABILITY][index]), int(outputs[OUTPUT_KNOWN_TOKENS][index]))
            explanations.append(TextExplanation(score, tokens))
        return explanations


def load_version(path: Path, xla_buckets: Buckets | None = None) -> LoadedModel:
    """Load a SavedModel and its metadata, and warm it up; the version is the folder's number.

    With `xla_buckets`, and when the version exports serving_default's two halves, the forward step
    is `CompiledForward` over those buckets (capped at the version's sequence length), all compiled
    here; otherwise it is serving_default itself.
    """
    try:
        metadata = read_metadata(path)
        saved = tf.saved_model.load(str(path))
        signature = saved.signatures[SIGNATURE_NAME]
    except (MetadataError, OSError, ValueError, KeyError, tf.errors.OpError) as error:
        raise ModelLoadError(f"cannot load the model at {path}: {error}") from error
    forward = signature_forward(signature)
    halves = {TOKENIZE_SIGNATURE, SCORE_TOKENS_SIGNATURE}
    if xla_buckets is not None and halves <= set(saved.signatures):
        buckets = xla_buckets.up_to(metadata.get("sequence_length"))
        forward = CompiledForward(saved, buckets)
    elif xla_buckets is not None:
        logger.info(
            "version %s exports no %s: serving_default runs without XLA", path.name, " and ".join(sorted(halves))
        )
    explainer = saved.signatures.get(EXPLAIN_SIGNATURE_NAME)
    model = LoadedModel(version_of(path), metadata, signature, forward, explainer)
    model.warm_up()
    if not model.can_explain:
        logger.warning("version %d has no %s signature: /explain answers 501", model.version, EXPLAIN_SIGNATURE_NAME)
    logger.info("loaded model version %d from %s", model.version, path)
    return model
