"""Service settings, read from environment variables (MODEL_DIR, PORT, MAX_BATCH_SIZE, ...)."""

from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from model.artifact import DEFAULT_MODEL_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(protected_namespaces=(), extra="ignore")

    # Folder of numbered versions; the newest complete one is served.
    model_dir: Path = DEFAULT_MODEL_DIR
    # Seconds between looks for a newer version under MODEL_DIR; 0 turns polling off.
    model_poll_interval_s: float = Field(10.0, ge=0)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: str = "info"
    # uvicorn worker processes; each loads its own copy of the model and batches on its own.
    workers: int = Field(1, ge=1)
    # Seconds that shutdown (SIGTERM) waits for queued and running requests before it stops anyway.
    shutdown_timeout_s: float = Field(30.0, gt=0)
    # Seconds that SIGTERM first keeps serving with /readyz answering 503, so that load balancers
    # checking it stop sending before the listening socket closes; 0 starts the shutdown at once.
    shutdown_delay_s: float = Field(0.0, ge=0)
    # TensorFlow threads per model call and concurrent ops; 0 lets TensorFlow choose. Unset: one
    # of each per core (see README, Measured serving speed).
    tf_intra_op_threads: int | None = Field(None, ge=0)
    tf_inter_op_threads: int | None = Field(None, ge=0)
    # Batches being computed at once, each on a thread of its own; unset: one per core and one more.
    # A compiled model call keeps about one core busy, so there is a call per core, and one more
    # batch ready to start the moment one of them finishes.
    model_workers: int | None = Field(None, ge=1)
    # Python's switch interval: how long a thread may hold the GIL while another waits for it (5 ms
    # in Python). A model thread comes back from each compiled call needing the GIL while the event
    # loop holds it, and the core it computed on idles until it gets it.
    gil_switch_interval_ms: float = Field(1.0, gt=0)

    # Most texts coalesced into one batch. Small batches, several at once, keep a text's wait short:
    # a batch's model calls cost about the same per text from eight texts up (README, Batching).
    max_batch_size: int = Field(16, ge=1)
    # Under load, how long a batch may wait in all for more texts to join it (a lone request never waits).
    max_batch_wait_ms: float = Field(20.0, ge=0)
    # Under load, the batch stops waiting once no text arrived for this long.
    batch_idle_gap_ms: float = Field(3.0, ge=0)
    # Without XLA, a batch larger than this is cut into calls of serving_default on texts of similar
    # length, so that short texts are not padded to the longest one; 0 makes one call per batch.
    # (With XLA the batch is cut by its token counts, into the calls that take least time.)
    length_group_size: int = Field(32, ge=0)
    # Run the numeric half of the model (token ids to probabilities) compiled by XLA, for versions
    # whose SavedModel exports that half; versions without it, or false here, call serving_default.
    xla: bool = True
    # XLA compiles one program per input shape, all of them at load (before /readyz): a model call
    # is padded up to the next of these token counts and batch sizes. The model's own sequence
    # length and MAX_BATCH_SIZE are always included; sizes above them are ignored. The recurrent
    # layers stop after a call's longest text, so a few widths suffice; each shape costs memory.
    xla_length_buckets: list[int] = [32, 128]
    xla_batch_buckets: list[int] = [1, 4, 8, 16, 32]
    # Most texts waiting for a model call; beyond it requests get 503 with Retry-After.
    max_queue_items: int = Field(1024, ge=1)
    # Longest a request waits for its predictions before it gets 504.
    request_timeout_s: float = Field(30.0, gt=0)

    # Most texts in one request.
    max_batch_items: int = Field(64, ge=1)
    # Most characters in one text.
    max_text_chars: int = Field(20_000, ge=1)
    # Most characters in the text of one /explain request (an explanation costs many predictions).
    max_explain_chars: int = Field(5_000, ge=1)
    # Most texts coalesced into one call of the explain signature.
    max_explain_batch_size: int = Field(4, ge=1)
    # Largest request body accepted, checked before it is parsed.
    max_body_bytes: int = Field(2_000_000, ge=1)

    # When set, /predict, /model and /admin/* need "Authorization: Bearer <API_KEY>".
    api_key: SecretStr | None = None
    # Whether /metrics needs the API key too (when one is set).
    metrics_require_api_key: bool = False
    # Whether POST /admin/reload exists.
    admin_enabled: bool = False
    # Origins allowed to call the API from a browser, comma-separated; empty turns CORS off.
    cors_origins: Annotated[list[str], NoDecode] = []

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _queue_fits_a_request(self) -> Self:
        if self.max_queue_items < self.max_batch_items:
            raise ValueError("MAX_QUEUE_ITEMS must be at least MAX_BATCH_ITEMS, or large requests could never queue")
        return self
