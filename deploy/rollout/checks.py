"""What a rolling update must show in the answers its clients got: no failure, and versions in order.

Pure functions over the recorded answers and the moments the rollout recorded, so that they can be
tested on made-up timelines.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from deploy.rollout.load import Answer


@dataclass(frozen=True)
class Timeline:
    old_version: int
    new_version: int
    # The last moment the first replica of the new version was seen not ready: no answer of the new
    # version can have been received before it.
    first_new_not_ready_s: float
    # When the last replica of the old version had exited: no request sent after it can be answered
    # by the old version.
    last_old_exit_s: float


def failures(answers: Iterable[Answer]) -> int:
    return sum(answer.failed for answer in answers)


def version_problems(answers: list[Answer], timeline: Timeline) -> list[str]:
    """Every way the answers break the order of versions; empty when they keep it."""
    problems = []
    known = {timeline.old_version, timeline.new_version}
    # An answer that did not fail has a version; testing it again tells mypy so.
    named = {answer.version for answer in answers if not answer.failed and answer.version is not None}
    strangers = sorted(named - known)
    if strangers:
        problems.append(f"answers named versions {strangers}, neither the old nor the new one")
    early = [
        answer
        for answer in answers
        if answer.version == timeline.new_version and answer.received_s <= timeline.first_new_not_ready_s
    ]
    if early:
        problems.append(
            f"{len(early)} answers of version {timeline.new_version} arrived before its first replica was ready"
        )
    late = [
        answer
        for answer in answers
        if answer.version == timeline.old_version and answer.sent_s >= timeline.last_old_exit_s
    ]
    if late:
        problems.append(
            f"{len(late)} requests sent after the last replica of version {timeline.old_version} exited "
            f"were answered by it"
        )
    if not any(answer.version == timeline.new_version for answer in answers):
        problems.append(f"no answer came from version {timeline.new_version}")
    return problems


def split_at(answers: list[Answer], moment_s: float) -> tuple[list[Answer], list[Answer]]:
    """The answers received before `moment_s`, and the rest."""
    before = [answer for answer in answers if answer.received_s < moment_s]
    after = [answer for answer in answers if answer.received_s >= moment_s]
    return before, after
