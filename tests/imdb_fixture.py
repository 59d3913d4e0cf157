"""Write small generated datasets in Stanford's aclImdb layout, for tests that must not need the real one."""

import tarfile
from pathlib import Path

import numpy as np

POSITIVE_WORDS = ["wonderful", "brilliant", "moving", "superb", "delightful", "masterpiece", "great", "loved"]
NEGATIVE_WORDS = ["awful", "boring", "dull", "terrible", "waste", "worst", "bad", "hated"]
NEUTRAL_WORDS = ["the", "film", "movie", "plot", "actor", "scene", "story", "was", "and", "it", "this", "director"]


def generated_review(rng: np.random.Generator, positive: bool) -> str:
    """A review whose sentiment words agree with its label, with an HTML line break like the real data."""
    sentiment = POSITIVE_WORDS if positive else NEGATIVE_WORDS
    length = int(rng.integers(8, 60))
    words = [
        str(rng.choice(sentiment)) if rng.random() < 0.3 else str(rng.choice(NEUTRAL_WORDS)) for _ in range(length)
    ]
    middle = len(words) // 2
    return " ".join(words[:middle]) + ".<br /><br />" + " ".join(words[middle:]).capitalize() + "!"


def write_aclimdb(root: Path, reviews_per_label: int = 100, reviews_per_movie: int = 4, seed: int = 0) -> Path:
    """Create root/aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt and urls_*.txt; return root/aclImdb."""
    rng = np.random.default_rng(seed)
    base = root / "aclImdb"
    movie = 0
    for split in ("train", "test"):
        for label in ("pos", "neg"):
            folder = base / split / label
            folder.mkdir(parents=True)
            urls = []
            for review_id in range(reviews_per_label):
                if review_id % reviews_per_movie == 0:
                    movie += 1
                rating = int(rng.integers(7, 11)) if label == "pos" else int(rng.integers(1, 5))
                text = generated_review(rng, positive=label == "pos")
                (folder / f"{review_id}_{rating}.txt").write_text(text, encoding="utf-8")
                urls.append(f"http://www.imdb.com/title/tt{movie:07d}/usercomments")
            (base / split / f"urls_{label}.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    unsupervised = base / "train" / "unsup"
    unsupervised.mkdir()
    for review_id in range(reviews_per_label):
        text = generated_review(rng, positive=bool(review_id % 2))
        (unsupervised / f"{review_id}_0.txt").write_text(text, encoding="utf-8")
    return base


def write_tarball(folder: Path, target: Path) -> Path:
    """Pack an aclImdb folder as aclImdb_v1.tar.gz does."""
    with tarfile.open(target, "w:gz") as archive:
        archive.add(folder, arcname="aclImdb")
    return target
