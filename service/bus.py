"""The notification channel between the processes that share an SQLite store, on one machine.

PostgreSQL carries the service's messages (`cancel <ids>`, `queued`, `events <ids>`) with
LISTEN/NOTIFY (`service.db.Listener`). SQLite has no such channel, so the processes sharing a
file use Unix datagram sockets in a folder beside it (`<file>.bus/`): each process binds one
socket there, and a message is one datagram sent to every socket of the folder, the sender's own
included, after the transaction that it tells about has committed. A socket whose process died
refuses the datagram and is removed. A datagram lost (a full receive buffer) is caught up by the
same store reads that run while notifications are down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

logger = logging.getLogger("service.bus")

# The longest message: longer id lists go in several. Under both carriers' limits (pg_notify
# refuses 8,000 bytes; a datagram this size always fits a Unix socket).
PAYLOAD_BYTES = 7000


def bus_folder(database: Path) -> Path:
    return database.with_name(database.name + ".bus")


class LocalBus:
    """This process's socket in the bus folder; `publish()` reaches every process's `handle`."""

    def __init__(self, folder: Path, handle: Callable[[str, list[str]], None]) -> None:
        self.folder = folder
        self.handle = handle
        self.path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
        self.connected = False
        self._socket: socket.socket | None = None
        self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sender.setblocking(False)

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        receiver.bind(str(self.path))
        receiver.setblocking(False)
        self._socket = receiver
        asyncio.get_running_loop().add_reader(receiver.fileno(), self._readable)
        self.connected = True

    async def stop(self) -> None:
        self.connected = False
        if self._socket is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._socket.fileno())
            self._socket.close()
            self._socket = None
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._sender.close()

    def _readable(self) -> None:
        assert self._socket is not None
        while True:
            try:
                payload = self._socket.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                logger.exception("reading the bus failed")
                return
            kind, _, rest = payload.decode().partition(" ")
            try:
                self.handle(kind, [i for i in rest.split(",") if i])
            except Exception:
                logger.exception("handling bus message %r failed", payload[:200])

    def publish(self, messages: Iterable[str]) -> None:
        """Send each message to every process of the folder (never blocks; drops on a full peer)."""
        payloads = [m.encode() for m in messages]
        if not payloads:
            return
        try:
            peers = [p for p in self.folder.iterdir() if p.suffix == ".sock"]
        except OSError:
            return
        for peer in peers:
            for payload in payloads:
                try:
                    self._sender.sendto(payload, str(peer))
                except (ConnectionRefusedError, FileNotFoundError):
                    # The process that bound it is gone.
                    with contextlib.suppress(OSError):
                        peer.unlink()
                    break
                except (BlockingIOError, OSError):
                    # Its buffer is full: it catches up by reading the store.
                    break


def messages(kind: str, ids: Iterable[str] = (), limit: int = PAYLOAD_BYTES) -> list[str]:
    """`kind id,id,...` messages, each under `limit` bytes (`kind` alone without ids)."""
    out: list[str] = []
    chunk: list[str] = []
    size = len(kind) + 1
    for ident in ids:
        if chunk and size + len(ident) + 1 > limit:
            out.append(f"{kind} {','.join(chunk)}")
            chunk, size = [], len(kind) + 1
        chunk.append(ident)
        size += len(ident) + 1
    if chunk or not out:
        out.append(f"{kind} {','.join(chunk)}" if chunk else kind)
    return out
