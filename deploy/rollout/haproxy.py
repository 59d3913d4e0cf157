"""HAProxy in front of the replicas: its configuration, its process, and the state it sees each server in."""

import asyncio
import csv
import io
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)
BACKEND = "replicas"
RETRY_ON = "conn-failure empty-response"

# Why each line is there:
# - health checks GET /readyz twice a second; two failures take a server out, two successes put it
#   back. A replica stopping (SIGTERM closes its listening socket) or killed fails them at once.
# - `observe layer4` with `on-error mark-down` takes a server out on its first failed connection,
#   without waiting for the next check.
# - `retries` and `option redispatch 1`: a request whose connection is refused (a replica that just
#   closed its socket) is sent to another server, on every retry.
# - `retry-on conn-failure empty-response`: also resend a request to which a server closed the
#   connection without answering (a replica killed mid-request, or one that closed a connection
#   it had accepted but not yet read). POST /predict has no side effect, so replaying it is safe.
#   Only requests that fit in one buffer (tune.bufsize, 16 kB by default) are replayed.
# - `option http-server-close`: one server connection per request, so that no request is ever
#   written onto an idle connection that a stopping replica is closing.
# - `balance leastconn`: a replica that just started, or a slow one, gets fewer requests.
CONFIG = """\
global
    maxconn 2048
    stats socket {stats_socket} mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout check 1s
    retries 3
    option redispatch 1
    retry-on {retry_on}
    option http-server-close

frontend sentiment
    bind 127.0.0.1:{port}
    default_backend {backend}

backend {backend}
    balance leastconn
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server check inter 500ms fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down
{servers}
"""


class HAProxyError(RuntimeError):
    """HAProxy is missing, refused its configuration, or stopped."""


def render_config(port: int, servers: dict[str, int], stats_socket: Path, retry_on: str = RETRY_ON) -> str:
    """HAProxy's configuration for a frontend on `port` and one server per (name, port) of `servers`."""
    lines = "\n".join(f"    server {name} 127.0.0.1:{server_port}" for name, server_port in servers.items())
    return CONFIG.format(port=port, backend=BACKEND, servers=lines, stats_socket=stats_socket, retry_on=retry_on)


@dataclass
class HAProxy:
    folder: Path
    port: int
    servers: dict[str, int]
    retry_on: str = RETRY_ON
    process: asyncio.subprocess.Process | None = None

    @property
    def stats_socket(self) -> Path:
        # An absolute path: HAProxy reads a relative one as a host name.
        return self.folder.resolve() / "haproxy.sock"

    async def start(self) -> None:
        # Debian installs it in /usr/sbin, which is not on every user's PATH.
        executable = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
        if executable is None:
            raise HAProxyError("haproxy is not installed (Debian: apt-get install haproxy)")
        config = self.folder / "haproxy.cfg"
        config.write_text(render_config(self.port, self.servers, self.stats_socket, self.retry_on))
        check = await asyncio.create_subprocess_exec(
            executable, "-c", "-f", str(config), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await check.communicate()
        if check.returncode != 0:
            raise HAProxyError(f"haproxy refused its configuration: {output.decode(errors='replace')}")
        log = (self.folder / "haproxy.log").open("wb")
        # -db: stay in the foreground, so that this process owns it and its log.
        self.process = await asyncio.create_subprocess_exec(
            executable, "-db", "-f", str(config), stdout=log, stderr=log
        )
        log.close()
        for _ in range(100):
            if self.stats_socket.exists():
                return
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise HAProxyError(f"haproxy did not start; see {self.folder / 'haproxy.log'}")

    async def statistics(self) -> list[dict[str, str]]:
        """The rows of the backend in HAProxy's `show stat`: one per server, then the backend's totals."""
        reader, writer = await asyncio.open_unix_connection(str(self.stats_socket))
        try:
            writer.write(b"show stat\n")
            await writer.drain()
            text = (await reader.read()).decode()
        finally:
            writer.close()
        return [row for row in csv.DictReader(io.StringIO(text.removeprefix("# "))) if row.get("pxname") == BACKEND]

    async def server_states(self) -> dict[str, str]:
        """Each server's status as HAProxy sees it: UP, DOWN, or a transition such as "UP 1/2"."""
        return {row["svname"]: row["status"] for row in await self.statistics() if row["svname"] != "BACKEND"}

    async def resends(self) -> dict[str, int]:
        """How many times HAProxy has resent a request so far: retries, and redispatches to another server."""
        (totals,) = [row for row in await self.statistics() if row["svname"] == "BACKEND"]
        return {"retries": int(totals["wretr"] or 0), "redispatches": int(totals["wredis"] or 0)}

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
