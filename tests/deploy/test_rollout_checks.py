"""The rollout test's verdicts on made-up timelines, and the HAProxy configuration it runs."""

import shutil
import subprocess
from pathlib import Path

import pytest

from deploy.rollout.checks import Timeline, failures, split_at, version_problems
from deploy.rollout.haproxy import render_config
from deploy.rollout.load import Answer, version_of_answer

# Version 5 served alone until 10 s; the first replica of 6 was last seen not ready at 20 s; the
# last replica of 5 exited at 40 s.
TIMELINE = Timeline(old_version=5, new_version=6, first_new_not_ready_s=20.0, last_old_exit_s=40.0)


def answer(sent_s: float, version: int | None, status: int = 200) -> Answer:
    return Answer(sent_s=sent_s, received_s=sent_s + 0.1, status=status, version=version)


def test_a_clean_rollout_has_no_version_problem():
    answers = [answer(1, 5), answer(25, 5), answer(25.5, 6), answer(39, 5), answer(41, 6)]
    assert version_problems(answers, TIMELINE) == []


def test_a_new_version_answer_before_its_replica_was_ready_is_reported():
    problems = version_problems([answer(5, 5), answer(19.5, 6), answer(45, 6)], TIMELINE)
    assert problems == ["1 answers of version 6 arrived before its first replica was ready"]


def test_an_old_version_answer_to_a_request_sent_after_its_last_replica_exited_is_reported():
    problems = version_problems([answer(5, 5), answer(30, 6), answer(40.5, 5)], TIMELINE)
    assert problems == ["1 requests sent after the last replica of version 5 exited were answered by it"]


def test_a_third_version_and_a_rollout_that_never_served_the_new_one_are_reported():
    problems = version_problems([answer(5, 5), answer(30, 4)], TIMELINE)
    assert problems == ["answers named versions [4], neither the old nor the new one", "no answer came from version 6"]


def test_failures_count_errors_and_missing_answers_and_split_at_a_moment():
    answers = [answer(1, 5), answer(2, None, status=503), answer(3, None, status=0), answer(50, 6)]
    assert failures(answers) == 2
    before, after = split_at(answers, 3.05)
    assert (len(before), len(after)) == (2, 2)
    assert (failures(before), failures(after)) == (1, 1)


def test_a_200_without_a_model_version_counts_as_failed():
    assert version_of_answer(200, b'{"model_version": 6, "predictions": []}') == 6
    assert version_of_answer(200, b"<html>not json</html>") is None
    assert version_of_answer(503, b'{"model_version": 6}') is None
    assert Answer(0.0, 0.1, 200, version_of_answer(200, b"[]")).failed


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed (make rollout-test installs it)")
def test_haproxy_accepts_the_configuration(tmp_path: Path):
    config = tmp_path / "haproxy.cfg"
    config.write_text(render_config(8080, {"replica-1": 8001, "replica-2": 8002}, tmp_path / "haproxy.sock"))
    result = subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    config.write_text(render_config(8080, {"replica-1": 8001}, tmp_path / "haproxy.sock", retry_on="no-such-event"))
    assert subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True).returncode != 0
