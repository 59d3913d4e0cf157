"""Hot reload: a new version dropped under MODEL_DIR is loaded off the request path and swapped in."""

import gc
import json
import shutil
import threading
import time
import weakref
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.serving import freeze_heap
from app.settings import Settings

TEXTS = ["wonderful superb film", "awful boring film"]


def publish(source: Path, model_dir: Path, version: int) -> Path:
    """Copy a version under a new number the way training publishes: staged, then renamed."""
    staging = model_dir / f".tmp-{version}"
    shutil.copytree(source, staging)
    metadata = json.loads((staging / "metadata.json").read_text())
    (staging / "metadata.json").write_text(json.dumps({**metadata, "version": version}))
    target = model_dir / str(version)
    staging.rename(target)
    return target


def wait_for(condition, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition did not come true in time")
        time.sleep(0.05)


def test_requests_under_load_never_fail_and_switch_to_the_new_version(tiny_version: Path, tmp_path: Path):
    publish(tiny_version, tmp_path, 1)
    settings = Settings(model_dir=tmp_path, model_poll_interval_s=0.2)
    answers: list[tuple[int, int]] = []
    stop = threading.Event()

    with TestClient(create_app(settings)) as client:

        def send() -> None:
            while not stop.is_set():
                answer = client.post("/predict", json={"texts": TEXTS})
                answers.append((answer.status_code, answer.json().get("model_version", -1)))

        senders = [threading.Thread(target=send) for _ in range(6)]
        for sender in senders:
            sender.start()
        wait_for(lambda: len(answers) >= 20)
        publish(tiny_version, tmp_path, 2)
        wait_for(lambda: answers and answers[-1][1] == 2)
        wait_for(lambda: sum(version == 2 for _, version in answers) >= 20)
        stop.set()
        for sender in senders:
            sender.join()
        assert client.get("/model").json()["version"] == 2

    statuses = {status for status, _ in answers}
    versions = [version for _, version in answers]
    assert statuses == {200}, f"failed requests during the reload: {[a for a in answers if a[0] != 200][:5]}"
    assert versions[0] == 1 and versions[-1] == 2
    assert set(versions) == {1, 2}


def test_a_corrupt_version_is_skipped_and_the_old_one_keeps_serving(tiny_version: Path, tmp_path: Path, caplog):
    publish(tiny_version, tmp_path, 1)
    broken = publish(tiny_version, tmp_path, 2)
    (broken / "saved_model.pb").write_bytes(b"not a saved model")
    settings = Settings(model_dir=tmp_path, model_poll_interval_s=0, admin_enabled=True)
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json() == {"status": "ready", "model_version": 1}
        assert client.post("/admin/reload").json() == {"reloaded": False, "model_version": 1}
        assert client.post("/predict", json={"texts": TEXTS}).json()["model_version"] == 1
        publish(tiny_version, tmp_path, 3)
        assert client.post("/admin/reload").json() == {"reloaded": True, "model_version": 3}
    assert any("skipping version 2" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("move", [shutil.copytree, shutil.move], ids=["copied", "renamed"])
def test_a_copied_or_renamed_version_is_loaded_once_under_its_folder_number(
    tiny_version: Path, tmp_path: Path, caplog, move
):
    # Operators promote a model by copying or renaming its folder; its metadata keeps the old number.
    publish(tiny_version, tmp_path, 5)
    settings = Settings(model_dir=tmp_path, model_poll_interval_s=0.1)
    with caplog.at_level("INFO", logger="app.model_store"), TestClient(create_app(settings)) as client:
        move(tmp_path / "5", tmp_path / ".staged")
        (tmp_path / ".staged").rename(tmp_path / "6")
        wait_for(lambda: client.get("/readyz").json().get("model_version") == 6)
        time.sleep(1.0)  # Ten more polls: none of them may load the folder again.
        assert client.post("/predict", json={"texts": TEXTS}).json()["model_version"] == 6
        assert client.get("/model").json()["version"] == 6
    loads = [record.getMessage() for record in caplog.records if record.getMessage().startswith("loaded model")]
    assert loads == [f"loaded model version 5 from {tmp_path / '5'}", f"loaded model version 6 from {tmp_path / '6'}"]


def test_started_without_a_model_it_begins_serving_when_a_version_appears(tiny_version: Path, tmp_path: Path):
    settings = Settings(model_dir=tmp_path, model_poll_interval_s=0.2)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        answer = client.post("/predict", json={"text": "great"})
        assert answer.status_code == 503
        assert "no model version is loaded" in answer.json()["detail"]
        publish(tiny_version, tmp_path, 1)
        wait_for(lambda: client.get("/readyz").status_code == 200)
        assert client.post("/predict", json={"texts": TEXTS}).status_code == 200


def test_admin_endpoints_are_off_unless_enabled(tiny_model_dir: Path):
    with TestClient(create_app(Settings(model_dir=tiny_model_dir, model_poll_interval_s=0))) as client:
        assert client.post("/admin/reload").status_code == 404


def test_the_served_model_is_out_of_the_garbage_collectors_reach(tiny_model_dir: Path):
    # A full collection would otherwise walk every object of the model, every few batches.
    with TestClient(create_app(Settings(model_dir=tiny_model_dir, model_poll_interval_s=0))) as client:
        model = client.app.state.slot.current.model
        assert client.post("/predict", json={"texts": TEXTS}).status_code == 200
        assert not any(tracked is model or tracked is model.signature for tracked in gc.get_objects())


def test_a_replaced_version_is_freed(tiny_version: Path, tmp_path: Path):
    publish(tiny_version, tmp_path, 1)
    settings = Settings(model_dir=tmp_path, model_poll_interval_s=0, admin_enabled=True)
    with TestClient(create_app(settings)) as client:
        first = weakref.ref(client.app.state.slot.current.model)
        publish(tiny_version, tmp_path, 2)
        assert client.post("/admin/reload").json() == {"reloaded": True, "model_version": 2}
        wait_for(lambda: first() is None, timeout_s=30)
        assert client.post("/predict", json={"texts": TEXTS}).json()["model_version"] == 2


def test_freezing_again_collects_the_cycles_of_what_was_frozen_before():
    # A dropped model leaves reference cycles that only a collection of unfrozen objects frees.
    class Node:
        pass

    node = Node()
    node.itself = node
    alive = weakref.ref(node)
    gc.freeze()
    del node
    freeze_heap()
    assert alive() is None
