from pathlib import Path

import pytest

from model.config import ModelConfig
from training.config import TrainConfig, build_parser, parse_config


def test_defaults_without_flags(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("IMDB_DATA_DIR", raising=False)
    assert parse_config([]) == TrainConfig()


def test_flags_override_training_and_model_fields(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("IMDB_DATA_DIR", raising=False)
    config = parse_config(
        ["--epochs", "5", "--lstm-units", "32", "16", "--bidirectional", "false", "--max-train-reviews", "500"]
    )
    assert config.epochs == 5
    assert config.max_train_reviews == 500
    assert config.model == ModelConfig(lstm_units=(32, 16), bidirectional=False)


def test_data_dir_comes_from_the_environment_unless_a_flag_says_otherwise(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IMDB_DATA_DIR", "/data/aclImdb_v1.tar.gz")
    assert parse_config([]).data_dir == Path("/data/aclImdb_v1.tar.gz")
    assert parse_config(["--data-dir", "/other"]).data_dir == Path("/other")


def test_a_bad_value_is_refused(capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit):
        parse_config(["--bidirectional", "maybe"])
    assert "expected true or false" in capsys.readouterr().err


def test_to_dict_is_json_ready():
    values = TrainConfig(data_dir=Path("x.tar.gz")).to_dict()
    assert values["data_dir"] == "x.tar.gz"
    assert values["model"]["lstm_units"] == ModelConfig().lstm_units


def test_every_flag_is_described_by_its_fields_comment_and_default(capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit):
        parse_config(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Reviews per training step. (default: 64)" in help_text
    assert "Units of each stacked LSTM layer, first to last. (default: 64 64)" in help_text
    assert "Most epochs of each round after the first. (default: 2)" in help_text
    # Every flag has a description, and the model's flags are a group of their own.
    assert "model (architecture and tokenizer):" in help_text
    assert help_text.count("(default:") == len(vars(build_parser().parse_args([])))
    flags = [action for action in build_parser()._actions if action.dest != "help"]
    assert [action.dest for action in flags if action.help.startswith(" (default")] == []
