import functools
import http.server
import logging
import socket
import threading
from pathlib import Path

import pytest

from tests.imdb_fixture import write_tarball
from training import data as data_module
from training.data import DataUnavailableError, load_aclimdb, load_imdb
from training.train import main


def test_reads_the_folder_its_parent_and_the_tarball_alike(aclimdb_dir: Path, tmp_path: Path):
    tarball = write_tarball(aclimdb_dir, tmp_path / "aclImdb_v1.tar.gz")
    loaded = [load_aclimdb(path) for path in (aclimdb_dir, aclimdb_dir.parent, tarball)]
    for data in loaded:
        assert len(data.train) == len(data.test) == 200
        assert sorted(set(data.train.labels.tolist())) == [0, 1]
        assert len(data.unsupervised) == 100
    assert loaded[0].train.texts == loaded[1].train.texts == loaded[2].train.texts
    assert loaded[0].train.movies == loaded[2].train.movies
    assert loaded[2].source == "aclImdb:aclImdb_v1.tar.gz"


def test_each_review_gets_the_movie_on_its_line_of_urls(aclimdb_dir: Path):
    data = load_aclimdb(aclimdb_dir)
    urls = (aclimdb_dir / "train" / "urls_pos.txt").read_text().splitlines()
    text_of_review_5 = (next((aclimdb_dir / "train" / "pos").glob("5_*.txt"))).read_text()
    index = data.train.texts.index(text_of_review_5)
    assert urls[5].endswith(f"/title/{data.train.movies[index]}/usercomments")


def test_a_missing_path_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DataUnavailableError, match="No IMDB copy"):
        load_aclimdb(tmp_path / "nowhere")


def test_a_folder_without_reviews_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DataUnavailableError, match="holds no aclImdb"):
        load_aclimdb(tmp_path)


@pytest.fixture
def no_tfds_copy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """An empty TFDS folder, proxies off for the loopback host, and tfds.load replaced by a failing recorder."""
    import tensorflow_datasets as tfds

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tensorflow_datasets"))
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    calls: list[str] = []

    def unreachable(name: str, *_args, **_kwargs):
        calls.append(name)
        raise ConnectionError("Failed to resolve 'ai.stanford.edu'")

    monkeypatch.setattr(tfds, "load", unreachable)
    return calls


def test_an_unreachable_host_fails_at_once_without_tfds_retries(
    monkeypatch: pytest.MonkeyPatch, no_tfds_copy: list[str]
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setattr(data_module, "ACLIMDB_URL", f"http://127.0.0.1:{closed_port}/aclImdb_v1.tar.gz")
    with pytest.raises(DataUnavailableError, match=f"--data-dir PATH or IMDB_DATA_DIR=PATH.*127.0.0.1:{closed_port}"):
        load_imdb(None)
    assert no_tfds_copy == []


def test_a_failed_download_says_how_to_pass_a_local_copy(
    monkeypatch: pytest.MonkeyPatch, no_tfds_copy: list[str], tmp_path: Path
):
    # A host that answers (404 here) is left to tensorflow-datasets, whose failure is reported the same way.
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        monkeypatch.setattr(data_module, "ACLIMDB_URL", f"http://127.0.0.1:{server.server_port}/aclImdb_v1.tar.gz")
        with pytest.raises(DataUnavailableError, match="--data-dir PATH or IMDB_DATA_DIR=PATH"):
            load_imdb(None)
        server.shutdown()
    assert no_tfds_copy == ["imdb_reviews"]


def test_the_cli_reports_missing_data_in_one_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture
):
    monkeypatch.delenv("IMDB_DATA_DIR", raising=False)

    def unavailable(_data_dir):
        raise DataUnavailableError("Could not download imdb_reviews; pass a local copy with --data-dir PATH.")

    monkeypatch.setattr("training.train.load_imdb", unavailable)
    with caplog.at_level(logging.ERROR):
        assert main([]) == 2
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == [
        "Could not download imdb_reviews; pass a local copy with --data-dir PATH."
    ]
    assert "Traceback" not in capsys.readouterr().err


def test_tfds_loader_is_used_when_no_local_copy_is_given(monkeypatch: pytest.MonkeyPatch):
    calls = []
    monkeypatch.setattr(data_module, "load_tfds", lambda: calls.append("tfds") or "loaded")
    assert load_imdb(None) == "loaded"
    assert calls == ["tfds"]
