"""The training configuration: one object, every field overridable from the command line."""

import argparse
import dataclasses
import inspect
import io
import os
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.artifact import DEFAULT_MODEL_DIR
from model.config import ModelConfig


@dataclass(frozen=True)
class TrainConfig:
    # Architecture and tokenizer; its fields are flags too (--lstm-units 64 64, --vocabulary-size ...).
    model: ModelConfig = field(default_factory=ModelConfig)
    # Local aclImdb copy (folder or aclImdb_v1.tar.gz); None downloads imdb_reviews with TFDS.
    data_dir: Path | None = None
    # Where versions are written: <artifacts_dir>/<version>/.
    artifacts_dir: Path = DEFAULT_MODEL_DIR
    # Where TensorBoard logs and checkpoints of each run go (not committed).
    runs_dir: Path = Path("runs")
    # Share of the training reviews held out for validation (model selection and calibration).
    validation_fraction: float = 0.1
    # Start the embedding layer from PPMI-SVD word vectors of the train and unlabelled reviews.
    pretrained_embeddings: bool = True
    # Keep those word vectors fixed while fitting, so that 22,500 labels cannot overfit them.
    freeze_embeddings: bool = False
    # Passes of language-model pretraining of the first LSTM layer over those reviews (0: none).
    language_model_epochs: int = 0
    # Words on each side that count as neighbours when learning those vectors.
    embedding_window: int = 5
    # Sentences cut from training reviews (labelled like their review) added to the training set, as a
    # share of the number of reviews, so that the model sees one-liners too. Off by default: at 1.0 it
    # calibrated short texts far better but lost 0.5 points on reviews (training/README.md).
    sentence_fraction: float = 0.0
    # Longest n-gram of the bag-of-n-grams teacher that labels unlabelled reviews for the LSTM to learn
    # from (training/teacher.py); 0 trains on the labelled reviews alone.
    teacher_ngram_order: int = 3
    # Inverse L2 strength of the teacher's logistic regression (1.0 was best on validation of 0.1 to 1.0).
    teacher_regularisation: float = 1.0
    # Unlabelled reviews the teacher labels for training (None: all 50,000).
    teacher_unlabelled_reviews: int | None = None
    # Single sentences cut at random from unlabelled reviews that the teacher labels too, so that the
    # model sees one-liners whose label is their own, not their review's: one from each review, then a
    # second from each, and so on (training/sentences.py). Three from each, 150,000 instead of one,
    # gave the lowest validation loss of any run and more test sentences right (version 12): the LSTM
    # follows its sentence teacher more closely when it sees more of what the teacher says. Six from
    # each, 300,000, made epochs up to 27% longer at a higher validation loss (training/README.md).
    teacher_sentences: int = 150000
    # Label those sentences with a second n-gram teacher fitted on every sentence of the training
    # reviews (each labelled like its review) instead of the review teacher. Fitted on whole reviews,
    # the review teacher spreads a review's verdict over all of its n-grams, so a one-liner's few
    # n-grams say little; fitted on sentences, each phrase must carry its sentence alone, and
    # "two hours I will never get back" becomes as negative as it reads (training/README.md).
    sentence_teacher: bool = True
    # Inverse L2 strength of the sentence teacher (0.1 beat 1.0 on validation sentences).
    sentence_teacher_regularisation: float = 0.1
    # Unlabelled reviews the review teacher is surest of (half the most negative, half the most
    # positive) whose sentences join those of the training reviews when the sentence teacher is
    # fitted, each labelled like the teacher reads its review. A sentence's label is its review's
    # and so noisy whatever its source; what limits the sentence teacher is how many sentences it
    # sees. All 50,000 raised the sentence teacher from 70.8% to 72.3% of validation sentences. A
    # teacher reads the sentences it was fitted on too surely, so with these reviews two teachers are
    # cross-fitted, each on the sure reviews of one half of the unlabelled reviews, and each labels
    # the other half's sentences (training/distillation.py, `sentence_labellers`). Cross-fitted, the
    # LSTM's sureness on sentences was right again but it read them no better than version 11 and
    # its validation loss was higher, so 0, one teacher on the training reviews alone, stays the
    # default (training/README.md).
    sentence_teacher_unlabelled_reviews: int = 0
    # Words after a negation, within its clause, that both n-gram teachers mark as negated ("i cant
    # neg_fault neg_it"), so that they weigh "fault" and "can't fault" apart; 0 marks none. A bag of
    # n-grams otherwise reads "I can't fault it." as the complaint its words are, and the LSTM
    # learns that from its labels. Three words gave the lowest validation loss of any run until then
    # (version 11), and a second run one between those of version 10's two (training/README.md).
    teacher_negation_scope: int = 3
    # Sentences of the unlabelled reviews, beyond those random ones, that the sentence teacher is surest
    # of (half the most negative, half the most positive), so that opinions in phrases too rare to
    # come up among the random sentences are seen as one-liners too (training/README.md).
    teacher_confident_sentences: int = 80000
    # Choose those sure sentences so that the ones holding a negation are half negative and half
    # positive too, not 71% negative as the surest were (with version 10's teachers, which did not
    # mark negations), lest the LSTM learn that a negation leans negative whatever it negates ("I
    # can't fault it."). Off: it removed the lean on validation
    # sentences holding a negation but was right on fewer of them, at a higher validation loss
    # (training/README.md).
    teacher_confident_negations_balanced: bool = False
    # Passages of two neighbouring sentences, one from each of this many unlabelled reviews, labelled
    # by the sentence teacher, so that the LSTM sees short texts of more than one sentence whose
    # sentences mostly agree. Off by default: with them and the rules below the model still read two
    # agreeing complaints as praise (training/README.md).
    teacher_passages: int = 0
    # Sentences the sentence teacher is sure of, negated at their one verb with their label flipped
    # ("The acting was wooden." -> "The acting was not wooden.", "The story drags." -> "The story never
    # drags."), half read positive and half negative, so that the LSTM learns what "not" does
    # (training/augment.py); as many as the sources allow, up to this number. With the three rules
    # below and sentence boundaries it took the check set from 75.0% to 84.7%. Without boundaries,
    # or without the fragments, the rules taught the model that "never" followed by complaints is
    # praise ("Two hours I will never get back. Dull, badly acted and far too long.", read positive
    # in seven runs of eight; training/README.md).
    negation_sentences: int = 40000
    # Let the negation rule also negate at a subject that takes a quantifier ("None of the jokes fell
    # flat.", "Nothing about the plot was dull.") and with "hardly". Alone it raised negated
    # complaints on the check set (58% against 50-52%) at no gain in validation loss; with the two
    # options below it is part of the default (training/README.md).
    negation_quantifiers: bool = True
    # Let the negation rule also negate at an object ("The film has many funny moments." -> "The film
    # has no funny moments.", "Not a single funny moment.", "There wasn't a single dull scene."): the
    # form of "I have no complaints" and "Not a dull moment". Alone, the model read those forms but
    # kept its epoch-1 weights at a higher validation loss (0.2423); with the option above and the
    # weight average it reached the lowest validation loss of any run until then, 0.2354
    # (training/README.md).
    negation_objects: bool = True
    # Different negations written from each source sentence, up to `negation_sentences` in all: the
    # sources that the rule can negate unambiguously give fewer than asked (9,808 of 40,000 for
    # version 10), and a source's other forms ("The plot was not dull.", "Not dull at all.", "There
    # was nothing dull about the plot.") show the model the same negation in more words. Two per
    # source raised the rule-written validation texts' negated figure from 93% to 95.5%, but not
    # validation loss or natural sentences, so one stays the default. On version 13's config, two
    # runs of it ended at validation losses of 0.2276 and 0.2337, about the 0.2284 and 0.2309 of
    # two runs without it (training/README.md).
    negations_per_source: int = 1
    # Let the negation rule also negate a sentence in a speaker's words around it ("The plot was
    # dull." -> "I wouldn't say the plot was dull.", "I don't think the story drags."), about a third
    # of the time, so that the model sees a negation several words before what it turns, as in "I
    # can't say anything bad about it", which the forms above never write. Off: the model learned
    # the frames but not those idioms, at a validation loss of 0.2306 against 0.2284 (training/README.md).
    negation_speakers: bool = False
    # Pairs of sure sentences of opposite sign joined by a contrast ("A, but B", "Although A, B",
    # "B, even though A") and labelled like the clause that decides, each pair both ways.
    contrast_sentences: int = 40000
    # Pairs of sure sentences of the same sign side by side ("A. B.", "A, and B."), labelled by that
    # sign, so that not every two-clause text the rules write turns at its second clause, and so that
    # the model sees a negation end where a sentence does.
    agreement_sentences: int = 20000
    # Sure sentences followed by a verbless fragment of the same sign ("Two hours I will never get
    # back. Dull and far too long."), half of them after a sentence that holds a negation, so that the
    # model sees a negation's reach end at the sentence's end when no verb follows.
    fragment_sentences: int = 20000
    # Rounds of learning from a teacher: after the first, the teacher becomes the n-gram teacher averaged
    # with the LSTM itself, which relabels the unlabelled texts for `teacher_round_epochs` more epochs.
    # One by default: a second round raised the LSTM's training accuracy but not its validation
    # figures, and cost 20 minutes (training/README.md).
    teacher_rounds: int = 1
    # Most epochs of each round after the first.
    teacher_round_epochs: int = 2
    # Seed of every random choice: split, shuffling, initialisation, dropout.
    seed: int = 1337
    # Most passes over the training data; early stopping may end sooner. Three: with four, the fourth
    # epoch of the shipped configuration raised validation loss and cost 16 minutes (training/README.md).
    epochs: int = 3
    # Reviews per training step.
    batch_size: int = 64
    # Tokens per training step, for texts short enough that `batch_size` of them hold fewer: a batch of
    # texts up to L tokens long then holds batch_tokens // L of them, so the one-sentence texts, which
    # outnumber the reviews four to one, take fewer steps. 0: `batch_size` texts whatever their length.
    batch_tokens: int = 0
    # Adversarial training on the word embeddings (training/adversarial.py): batches of texts at
    # most `adversarial_max_tokens` tokens long are also fitted with each text's embeddings moved,
    # against the model, by this many times the mean length of its token embeddings. 0: off. At 0.3
    # validation loss ended higher (0.2385 against 0.2284) and epochs took 23-41% longer, though the
    # check set rose (87.5% against 86.56%); at 0.1 it ended at 0.2364, with the check set at 86.88%
    # (training/README.md).
    adversarial_epsilon: float = 0.0
    # The widest batch (in tokens) fitted adversarially as well; wider ones, the reviews, are fitted
    # as usual, since the adversarial pass doubles a step's cost.
    adversarial_max_tokens: int = 64
    # Threads one TensorFlow op may split its work over while training (None: one per core). One: on
    # 2 cores the default config's epochs took 723-740 s instead of 1,051-1,257 s, since the two
    # directions of each bidirectional LSTM then run side by side and its small matrix products do
    # not pay for being split (training/README.md).
    intra_op_threads: int | None = 1
    # TensorFlow ops that may run at once while training (None: one per core).
    inter_op_threads: int | None = None
    # Adam's learning rate.
    learning_rate: float = 2e-3
    # Lower the learning rate epoch by epoch along a half cosine, from `learning_rate` in the first
    # epoch down to a quarter of it in the last of three, so the last epochs settle instead of jumping
    # around.
    decay_learning_rate: bool = True
    # Momentum of an exponential moving average of the weights, updated after every step; 0 turns it
    # off. With it, validation, the choice of the best epoch and the exported model all use the
    # average, which smooths out the noise of the last steps of an epoch at a high learning rate: two
    # runs of the config before kept validation losses of 0.2380 and 0.2375, far more alike than runs
    # without it (0.2367-0.2409). Short runs average fewer steps (training/fitting.py).
    weight_average_momentum: float = 0.999
    # Epochs without a better validation loss before training stops (best weights are restored). Two,
    # so that one noisy epoch at a high learning rate does not end the run before the rate has decayed.
    patience: int = 2
    # Continue an interrupted run from its last finished epoch (weights and vocabulary under runs_dir/backup).
    resume: bool = False
    # Use at most this many training reviews (None: all); for quick experiments and tests.
    max_train_reviews: int | None = None
    # Use at most this many test reviews for the reported figures (None: all 25,000).
    max_test_reviews: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, as saved in metadata.json."""
        values = dataclasses.asdict(self)
        return {name: str(value) if isinstance(value, Path) else value for name, value in values.items()}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def field_comments(cls: type) -> dict[str, str]:
    """The comment lines above each field of a dataclass, joined: the fields' one description."""
    comments: dict[str, str] = {}
    pending: list[str] = []
    tokens = tokenize.generate_tokens(io.StringIO(inspect.getsource(cls)).readline)
    for token in tokens:
        if token.type == tokenize.COMMENT:
            pending.append(token.string.lstrip("#").strip())
        elif token.type == tokenize.NAME and token.start[1] == 4 and pending:
            comments[token.string] = " ".join(pending)
            pending = []
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            pending = []
    return comments


def _add_fields(parser: argparse._ActionsContainer, config: Any, skip: set[str]) -> None:
    """One flag per dataclass field, typed after the field's default value, with its comment as help.

    The flags go to a parser or to one of its argument groups; _ActionsContainer is what the two share.
    """
    comments = field_comments(type(config))
    for item in dataclasses.fields(config):
        if item.name in skip:
            continue
        default = getattr(config, item.name)
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
        # Flags default to None, so that parse_config can tell a given flag from an absent one.
        options: dict[str, Any] = {"help": f"{comments.get(item.name, '')} (default: {shown})".replace("%", "%%")}
        if isinstance(default, bool):
            options |= {"type": _parse_bool, "metavar": "BOOL"}
        elif isinstance(default, tuple):
            options |= {"type": int, "nargs": "+"}
        elif isinstance(default, int | float | str):
            options |= {"type": type(default)}
        elif item.name.endswith("_reviews"):
            options |= {"type": int}
        else:
            options |= {"type": Path}
        parser.add_argument(_flag(item.name), **options)


def _parse_bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes"}:
        return True
    if value.lower() in {"0", "false", "no"}:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training.train",
        description="Train the sentiment model on IMDB and export a new version.",
    )
    _add_fields(parser.add_argument_group("training"), TrainConfig(), skip={"model"})
    _add_fields(parser.add_argument_group("model (architecture and tokenizer)"), ModelConfig(), skip=set())
    return parser


def parse_config(argv: list[str] | None = None) -> TrainConfig:
    """Defaults, then the IMDB_DATA_DIR environment variable, then command-line flags."""
    return config_from_arguments(build_parser().parse_args(argv))


def config_from_arguments(parsed: argparse.Namespace) -> TrainConfig:
    """The config that parsed command-line flags describe (see parse_config)."""
    arguments = vars(parsed)
    given = {name: value for name, value in arguments.items() if value is not None}
    if "data_dir" not in given and os.environ.get("IMDB_DATA_DIR"):
        given["data_dir"] = Path(os.environ["IMDB_DATA_DIR"])
    model_names = {item.name for item in dataclasses.fields(ModelConfig)}
    model_values = {name: value for name, value in given.items() if name in model_names}
    if "lstm_units" in model_values:
        model_values["lstm_units"] = tuple(model_values["lstm_units"])
    train_values = {name: value for name, value in given.items() if name not in model_names}
    return TrainConfig(model=ModelConfig(**model_values), **train_values)
