"""A rolling update behind HAProxy under load, on loopback: 0 failed requests, versions in order; then a kill.

    python -m deploy.rollout.rollout_test            # or: make rollout-test (installs haproxy if missing)
    python -m deploy.rollout.rollout_test --model-dir path/to/versions --clients 64 --output rollout.json

Three replicas of the service (`python -m app`, each on its own loopback port) serve a copy of the
newest version from one model folder, behind HAProxy, which checks /readyz on each. Clients send
single reviews through HAProxy for the whole run and record every answer. Then:

1. A new version is published into the model folder (a copy under the next number), and each
   replica in turn is replaced: SIGTERM, wait until it has exited (it answers what it holds first),
   start a new one on the same port, which loads the new version, and wait until it is ready and
   HAProxy has put it back. No request may fail; every answer names the old or the new version,
   the new one only once its first replica was ready, and the old one never for a request sent
   after its last replica exited.
2. One replica is killed (SIGKILL) under load and started again; the run reports how many requests
   failed and how long until HAProxy saw every replica up again.

The last line is `rollout: <n> requests, <f> failed, versions <old>-><new>, kill: <k> failed`, and the
exit code is non-zero when step 1 failed in any way. Replica and HAProxy logs are kept in the work
folder (runs/rollout by default). Bounded in time; all traffic stays on loopback.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.harness import free_port
from deploy.rollout.checks import Timeline, failures, split_at, version_problems
from deploy.rollout.haproxy import RETRY_ON, HAProxy, HAProxyError
from deploy.rollout.load import Answer, run_load
from deploy.rollout.replicas import Replica, ReplicaError
from deploy.versions import publish_copy
from model.artifact import configured_model_dir, newest_version, version_of

logger = logging.getLogger("deploy.rollout")
REPLICAS = 3
SHUTDOWN_TIMEOUT_S = 20
SHUTDOWN_DELAY_S = 2
REPLICA_ENVIRONMENT = {
    "LOG_LEVEL": "warning",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    # Versions change by replacing replicas, as with a new image; no replica swaps on its own.
    "MODEL_POLL_INTERVAL_S": "0",
    "SHUTDOWN_TIMEOUT_S": str(SHUTDOWN_TIMEOUT_S),
    # After SIGTERM, /readyz answers 503 this long before the listening socket closes: HAProxy
    # checks every 0.5 s and takes a server out after two failed checks, so it stops sending first.
    "SHUTDOWN_DELAY_S": str(SHUTDOWN_DELAY_S),
    # Three replicas share the machine's cores; one thread and one model call each keeps them from
    # fighting over them.
    "TF_INTRA_OP_THREADS": "1",
    "TF_INTER_OP_THREADS": "1",
    "MODEL_WORKERS": "1",
}
# Loading TensorFlow and the model while two other replicas serve can take a while on a small machine.
READY_TIMEOUT_S = 240.0
POOL_TIMEOUT_S = 30.0
STATE_POLL_S = 0.1


class RolloutError(RuntimeError):
    """A step of the rollout could not be carried out."""


class StateWatcher:
    """Records each change of a server's state as HAProxy reports it, with its moment."""

    def __init__(self, haproxy: HAProxy):
        self.haproxy = haproxy
        self.current: dict[str, str] = {}
        self.changes: list[tuple[float, str, str]] = []

    async def run(self) -> None:
        while True:
            try:
                states = await self.haproxy.server_states()
            except OSError as error:
                logger.warning("HAProxy's stats socket did not answer: %s", error)
                await asyncio.sleep(STATE_POLL_S)
                continue
            now = time.monotonic()
            for name, status in states.items():
                if self.current.get(name) != status:
                    self.changes.append((now, name, status))
            self.current = states
            await asyncio.sleep(STATE_POLL_S)

    def first_down(self, name: str, after_s: float) -> float | None:
        """When HAProxy first took `name` out of the pool after `after_s`."""
        return next(
            (at for at, server, status in self.changes if server == name and at >= after_s and _down(status)), None
        )

    async def wait_whole(self, timeout_s: float) -> float:
        """Wait until every server is UP; the moment it was first seen so."""
        deadline = time.monotonic() + timeout_s
        while not (self.current and all(status == "UP" for status in self.current.values())):
            if time.monotonic() > deadline:
                raise RolloutError(f"HAProxy did not see every replica up within {timeout_s:.0f} s: {self.current}")
            await asyncio.sleep(STATE_POLL_S / 2)
        return time.monotonic()


def _down(status: str) -> bool:
    # "DOWN" or "DOWN 1/2" (on its way back up); "UP 1/2" is still in the pool.
    return status.startswith("DOWN") or status == "MAINT"


async def resent_since(haproxy: HAProxy, before: dict[str, int]) -> dict[str, int]:
    return {name: count - before[name] for name, count in (await haproxy.resends()).items()}


async def restart(replica: Replica, watcher: StateWatcher, sig: signal.Signals, stop_timeout_s: float) -> dict:
    """Stop a replica with `sig`, start its successor on the same port, wait until it serves and the
    pool is whole again; when each of those happened, and what HAProxy resent meanwhile."""
    resends_before = await watcher.haproxy.resends()
    stopped = time.monotonic()
    exit_code = await replica.stop(sig, stop_timeout_s)
    exited = time.monotonic()
    await replica.start()
    readiness = await replica.wait_ready(READY_TIMEOUT_S)
    whole = await watcher.wait_whole(POOL_TIMEOUT_S)
    down = watcher.first_down(replica.name, stopped)
    return {
        "replica": replica.name,
        "exit_code": exit_code,
        "stopped_s": stopped,
        "exit_s": exited - stopped,
        "exited_at_s": exited,
        "out_of_pool_s": None if down is None else down - stopped,
        "version": readiness.version,
        "ready_s": readiness.ready_s - replica.started_s,
        "last_not_ready_s": readiness.last_not_ready_s,
        "back_in_pool_s": whole - readiness.ready_s,
        "pool_whole_s": whole - stopped,
        "resent": await resent_since(watcher.haproxy, resends_before),
    }


async def replace(replica: Replica, watcher: StateWatcher, new_version: int) -> dict:
    """SIGTERM a replica, wait for its drained exit, and start its successor on the new version."""
    peak_rss = replica.peak_rss_bytes()
    step = await restart(replica, watcher, signal.SIGTERM, SHUTDOWN_DELAY_S + SHUTDOWN_TIMEOUT_S + 15)
    if step["version"] != new_version:
        raise RolloutError(f"{replica.name} came back with version {step['version']}, not {new_version}")
    return {**step, "peak_rss_bytes": peak_rss}


async def kill_and_restart(replica: Replica, watcher: StateWatcher) -> dict:
    return await restart(replica, watcher, signal.SIGKILL, 10)


async def run_steps(replicas: list[Replica], haproxy: HAProxy, model_dir: Path, arguments: argparse.Namespace) -> dict:
    source = newest_version(model_dir)
    old_version = version_of(source)
    await haproxy.start()
    watcher = StateWatcher(haproxy)
    watch = asyncio.create_task(watcher.run(), name="haproxy-states")
    for replica in replicas:
        await replica.start()
    for replica in replicas:
        readiness = await replica.wait_ready(READY_TIMEOUT_S)
        logger.info(
            "%s ready with version %d after %.1f s",
            replica.name,
            readiness.version,
            readiness.ready_s - replica.started_s,
        )
    await watcher.wait_whole(POOL_TIMEOUT_S)
    new_version = version_of(publish_copy(source, model_dir))
    logger.info("published version %d beside version %d; load starts", new_version, old_version)

    stop = asyncio.Event()
    load = asyncio.create_task(run_load(haproxy.port, arguments.clients, stop), name="load")
    load_started = time.monotonic()
    try:
        await asyncio.sleep(arguments.settle_s)
        replacements = []
        for replica in replicas:
            replacements.append(await replace(replica, watcher, new_version))
            step = replacements[-1]
            logger.info(
                "%s replaced: exited %.1f s after SIGTERM (out of HAProxy's pool after %s s), "
                "version %d ready %.1f s after start",
                replica.name,
                step["exit_s"],
                _figure(step["out_of_pool_s"]),
                new_version,
                step["ready_s"],
            )
            await asyncio.sleep(arguments.settle_s)
        kill = await kill_and_restart(replicas[0], watcher)
        logger.info("%s killed; the pool was whole again after %.1f s", replicas[0].name, kill["pool_whole_s"])
        await asyncio.sleep(arguments.settle_s)
    finally:
        stop.set()
        answers: list[Answer] = await load
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
    load_ended = time.monotonic()

    timeline = Timeline(
        old_version=old_version,
        new_version=new_version,
        first_new_not_ready_s=replacements[0]["last_not_ready_s"],
        last_old_exit_s=replacements[-1]["exited_at_s"],
    )
    rollout_answers, kill_answers = split_at(answers, kill["stopped_s"])
    new_answers = [answer.received_s for answer in answers if answer.version == new_version]
    return {
        "replicas": len(replicas),
        "retry_on": haproxy.retry_on,
        "clients": arguments.clients,
        "old_version": old_version,
        "new_version": new_version,
        "requests": len(answers),
        "seconds": load_ended - load_started,
        "requests_per_s": len(answers) / (load_ended - load_started),
        "rollout_requests": len(rollout_answers),
        "rollout_failed": failures(rollout_answers),
        "version_problems": version_problems(answers, timeline),
        # How soon after its first replica was last seen not ready the new version answered.
        "first_new_answer_s": min(new_answers) - timeline.first_new_not_ready_s if new_answers else None,
        "answers_by_version": {
            str(version): sum(answer.version == version for answer in answers) for version in (old_version, new_version)
        },
        "replacements": replacements,
        "kill": {**kill, "requests": len(kill_answers), "failed": failures(kill_answers)},
        "failed_statuses": _statuses([answer for answer in answers if answer.failed]),
    }


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _statuses(answers: list[Answer]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for answer in answers:
        counts[str(answer.status)] = counts.get(str(answer.status), 0) + 1
    return counts


async def rollout(arguments: argparse.Namespace) -> dict:
    shutil.rmtree(arguments.work_dir, ignore_errors=True)
    arguments.work_dir.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="rollout-models-") as scratch:
        model_dir = Path(scratch)
        source = newest_version(arguments.model_dir)
        shutil.copytree(source, model_dir / source.name)
        replicas = [
            Replica(f"replica-{index}", free_port(), model_dir, arguments.work_dir, REPLICA_ENVIRONMENT)
            for index in range(1, REPLICAS + 1)
        ]
        servers = {replica.name: replica.port for replica in replicas}
        haproxy = HAProxy(arguments.work_dir, free_port(), servers, arguments.retry_on)
        try:
            return await run_steps(replicas, haproxy, model_dir, arguments)
        finally:
            await asyncio.gather(*(replica.close() for replica in replicas))
            await haproxy.stop()


def passed(result: dict) -> bool:
    return (
        result["rollout_failed"] == 0
        and not result["version_problems"]
        and all(step["exit_code"] == 0 for step in result["replacements"])
    )


def report(result: dict) -> str:
    mib = 2**20
    lines = [
        f"{result['replicas']} replicas behind HAProxy, {result['clients']} clients for {result['seconds']:.0f} s: "
        f"{result['requests_per_s']:.0f} requests/s; answers by version {result['answers_by_version']}; "
        f"HAProxy retry-on: {result['retry_on']}; the first answer of version {result['new_version']} came "
        f"{_figure(result['first_new_answer_s'])} s after its first replica was last seen not ready"
    ]
    for step in result["replacements"]:
        lines.append(
            f"  {step['replica']}: SIGTERM -> exit {step['exit_code']} after {step['exit_s']:.1f} s "
            f"(out of the pool after {_figure(step['out_of_pool_s'])} s); successor ready after "
            f"{step['ready_s']:.1f} s, back in the pool {step['back_in_pool_s']:.1f} s later; "
            f"HAProxy resent {step['resent']['retries']} requests; peak RSS {step['peak_rss_bytes'] / mib:.0f} MiB"
        )
    kill = result["kill"]
    lines.append(
        f"  {kill['replica']}: SIGKILL under load -> {kill['failed']} of {kill['requests']} requests failed; "
        f"out of the pool after {_figure(kill['out_of_pool_s'])} s, restarted and ready after {kill['ready_s']:.1f} s, "
        f"pool whole again {kill['pool_whole_s']:.1f} s after the kill; "
        f"HAProxy resent {kill['resent']['retries']} requests"
    )
    lines += [f"  problem: {problem}" for problem in result["version_problems"]]
    if result["failed_statuses"]:
        lines.append(f"  failed answers by status (0: no answer): {result['failed_statuses']}")
    lines.append(
        f"rollout: {result['requests']} requests, {result['rollout_failed']} failed, "
        f"versions {result['old_version']}->{result['new_version']}, kill: {kill['failed']} failed"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.rollout.rollout_test", description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=configured_model_dir())
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--settle-s", type=float, default=3.0, help="seconds of load before, between and after steps")
    parser.add_argument("--work-dir", type=Path, default=Path("runs/rollout"), help="replica and HAProxy logs")
    parser.add_argument(
        "--retry-on", default=RETRY_ON, help="HAProxy's retry-on; 'conn-failure' alone shows what the kill loses"
    )
    parser.add_argument("--output", type=Path, default=Path("rollout-results.json"))
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop and fail after this long in all")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result = asyncio.run(asyncio.wait_for(rollout(arguments), arguments.max_seconds))
    except TimeoutError:
        logger.error("the rollout did not finish within %.0f s (logs in %s)", arguments.max_seconds, arguments.work_dir)
        return 2
    except (RolloutError, ReplicaError, HAProxyError) as error:
        logger.error("the rollout could not run: %s (logs in %s)", error, arguments.work_dir)
        return 2
    arguments.output.write_text(json.dumps(result, indent=2, default=asdict) + "\n")
    sys.stdout.write(report(result) + "\n")
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
