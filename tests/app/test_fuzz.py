"""Property-based fuzzing of the whole API from its own OpenAPI schema: no 5xx, every answer conforms."""

import shutil
import tempfile
import time
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from app.main import create_app
from app.settings import Settings

EXAMPLES_PER_OPERATION = 60

# The schema is loaded when this module is imported, before the tiny model exists. The fixture
# below puts the model in place before the first generated request; the application's lifespan,
# which schemathesis starts with that request, loads it (or, if a lifespan is still running, its
# poller does).
MODEL_DIR = Path(tempfile.mkdtemp(prefix="fuzzed-model-"))
APP = create_app(Settings(model_dir=MODEL_DIR, model_poll_interval_s=0.1, max_text_chars=2_000))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def served_model(tiny_version: Path):
    shutil.copytree(tiny_version, MODEL_DIR / tiny_version.name)
    # A lifespan still running from the import loads the model through its poller: give it time.
    # With none running, the slot stays empty here and the lifespan of the first request loads it.
    deadline = time.monotonic() + 15
    while APP.state.slot.current is None and time.monotonic() < deadline:
        time.sleep(0.1)
    yield
    shutil.rmtree(MODEL_DIR, ignore_errors=True)


def the_model_is_served(ctx, response, case) -> bool | None:
    """Every prediction needs the model: without it each would be a (documented) 503."""
    assert not (case.path == "/predict" and response.status_code == 503), "the fuzzed service has no model"
    return None


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_conforms_to_its_schema(case, served_model):
    # All checks, positive_data_acceptance included: a body the schema allows is answered 200, even
    # when a text holds no word the model knows (that text gets an error in its place). The one
    # exception is /explain of such a text: there is nothing to explain, and its documented answer
    # is 422 no_known_words (tested in test_explain.py), which that check would call a rejection.
    excluded = [positive_data_acceptance] if case.path == "/explain" else []
    case.call_and_validate(additional_checks=[the_model_is_served], excluded_checks=excluded)
