"""Load the IMDB reviews, from tensorflow-datasets or from a local copy in Stanford's aclImdb layout."""

import functools
import logging
import re
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

LABEL_NAMES = ("negative", "positive")
_REVIEW_NAME = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
_URLS_NAME = re.compile(r"(?:^|/)aclImdb/(train|test)/urls_(pos|neg)\.txt$")
_MOVIE_ID = re.compile(r"/title/(tt\d+)/")
# Stanford's copy, which tensorflow-datasets downloads too; errors name it so that users can fetch it.
ACLIMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
# How long to wait for that host before giving up: offline, tensorflow-datasets retries for minutes.
REACHABLE_TIMEOUT_SECONDS = 10.0


class DataUnavailableError(RuntimeError):
    """The dataset could neither be read from a local copy nor downloaded."""


@dataclass(frozen=True)
class Reviews:
    texts: list[str]
    # 1 for positive, 0 for negative; or, for texts a teacher labelled, its probability of positive.
    labels: np.ndarray
    # The IMDB title each review is about, where the source says so; reviews of one movie are correlated.
    movies: list[str] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: np.ndarray) -> "Reviews":
        movies = [self.movies[i] for i in indices] if self.movies is not None else None
        return Reviews([self.texts[i] for i in indices], self.labels[indices], movies)

    def followed_by(self, other: "Reviews") -> "Reviews":
        """These texts, then `other`'s, with their labels (and no movies: the two may not both know them)."""
        return Reviews(self.texts + other.texts, np.concatenate([self.labels, other.labels]))

    def at_most(self, count: int | None, seed: int) -> "Reviews":
        """At most `count` of the reviews, drawn at random, in their original order (None: all)."""
        return self.subset(sample_indexes(len(self), count, seed))


def sample_indexes(total: int, count: int | None, seed: int) -> np.ndarray:
    """At most `count` of the indexes below `total`, drawn at random and sorted (None: all of them)."""
    if count is None or count >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).permutation(total)[:count])


@dataclass(frozen=True)
class ImdbData:
    train: Reviews
    test: Reviews
    # Where the reviews came from, as recorded in metadata.json.
    source: str
    # Reviews without a label (train/unsup), for learning word vectors.
    unsupervised: list[str] = field(default_factory=list)


def load_imdb(data_dir: Path | None) -> ImdbData:
    """Read a local aclImdb copy when one is given, else download imdb_reviews with TFDS."""
    if data_dir is not None:
        return load_aclimdb(data_dir)
    return load_tfds()


def load_tfds() -> ImdbData:
    import tensorflow_datasets as tfds

    if not tfds.builder("imdb_reviews").is_prepared():
        require_reachable(ACLIMDB_URL)
    try:
        splits = tfds.load("imdb_reviews", split=["train", "test", "unsupervised"], as_supervised=True, batch_size=-1)
    except OSError as error:
        raise DataUnavailableError(_download_advice(error)) from error
    train, test, unsupervised = ([text.decode("utf-8") for text in texts.numpy()] for texts, _ in splits)
    train_labels, test_labels = (labels.numpy().astype(np.int64) for _, labels in splits[:2])
    return ImdbData(
        Reviews(train, train_labels), Reviews(test, test_labels), "tfds:imdb_reviews", unsupervised=unsupervised
    )


def require_reachable(url: str) -> None:
    """Fail at once when the download host does not answer, instead of after TFDS's minutes of retries."""
    # urllib follows HTTP_PROXY and HTTPS_PROXY as tensorflow-datasets does.
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=REACHABLE_TIMEOUT_SECONDS):
            pass
    except urllib.error.HTTPError:
        return  # The host answered; let tensorflow-datasets deal with what it says.
    except OSError as error:
        raise DataUnavailableError(_download_advice(error)) from error


def _download_advice(error: OSError) -> str:
    return (
        f"Could not download imdb_reviews with tensorflow-datasets ({type(error).__name__}); "
        "pass a local copy with --data-dir PATH or IMDB_DATA_DIR=PATH, where PATH is aclImdb_v1.tar.gz "
        f"({ACLIMDB_URL}) or the aclImdb folder it unpacks to."
    )


def load_aclimdb(path: Path) -> ImdbData:
    """Read Stanford's layout from aclImdb_v1.tar.gz, from the aclImdb folder, or from its parent."""
    if not path.exists():
        raise DataUnavailableError(f"No IMDB copy at {path}: expected aclImdb_v1.tar.gz or an aclImdb folder.")
    files = _tar_files(path) if path.is_file() else _folder_files(path)
    reviews: dict[str, list[tuple[str, int, int, str]]] = {"train": [], "test": []}
    unsupervised: list[tuple[int, str]] = []
    urls: dict[tuple[str, str], list[str]] = {}
    for name, read in files:
        if match := _REVIEW_NAME.search(name):
            split, label, review_id, _rating = match.groups()
            if label == "unsup":
                unsupervised.append((int(review_id), read()))
            else:
                reviews[split].append((label, int(review_id), 1 if label == "pos" else 0, read()))
        elif match := _URLS_NAME.search(name):
            urls[(match.group(1), match.group(2))] = read().splitlines()
    if not reviews["train"] or not reviews["test"]:
        raise DataUnavailableError(f"{path} holds no aclImdb/train and aclImdb/test reviews.")
    train, test = (_to_reviews(reviews[split], split, urls) for split in ("train", "test"))
    unlabelled = [text for _, text in sorted(unsupervised)]
    logger.info(
        "read %d train, %d test and %d unlabelled reviews from %s", len(train), len(test), len(unlabelled), path
    )
    return ImdbData(train, test, source=f"aclImdb:{path.name}", unsupervised=unlabelled)


def _to_reviews(rows: list[tuple[str, int, int, str]], split: str, urls: dict) -> Reviews:
    rows.sort(key=lambda row: (row[0], row[1]))
    texts = [row[3] for row in rows]
    labels = np.array([row[2] for row in rows], dtype=np.int64)
    try:
        # Line N of urls_<label>.txt names the movie of review N.
        movies = [_movie_id(urls[(split, label)][review_id]) for label, review_id, _, _ in rows]
    except (KeyError, IndexError):
        logger.warning("no complete urls_*.txt for %s: the validation split cannot be drawn by movie", split)
        movies = None
    return Reviews(texts, labels, movies)


def _movie_id(url: str) -> str:
    match = _MOVIE_ID.search(url)
    return match.group(1) if match else url.strip()


def _tar_files(path: Path) -> Iterator[tuple[str, Callable[[], str]]]:
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            if member.isfile() and (_REVIEW_NAME.search(member.name) or _URLS_NAME.search(member.name)):
                extracted = archive.extractfile(member)
                # tarfile gives no file object only for members that are not regular files, skipped above.
                assert extracted is not None, f"{member.name} is a regular file but could not be extracted"
                content = extracted.read()
                # partial binds this member's bytes now, where a closure would see the loop's last ones.
                yield member.name, functools.partial(bytes.decode, content, "utf-8")


def _folder_files(path: Path) -> Iterator[tuple[str, Callable[[], str]]]:
    root = path if path.name == "aclImdb" else path / "aclImdb"
    for file in sorted(root.glob("*/*/*.txt")) + sorted(root.glob("*/urls_*.txt")):
        name = "aclImdb/" + file.relative_to(root).as_posix()
        yield name, functools.partial(file.read_text, encoding="utf-8")
