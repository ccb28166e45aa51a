"""A local TCP proxy for tests that cut the database (or any server) away and bring it back.

    proxy = TcpProxy("127.0.0.1", 5432)      # listens on 127.0.0.1:<proxy.port>
    proxy.cut()                              # every open connection is reset; new ones are refused
    proxy.cut(mode="blackhole")              # ... or accepted and never answered (a network partition)
    proxy.restore()
    proxy.close()

Threads, one pair per connection (tests open a handful).
"""

from __future__ import annotations

import socket
import struct
import threading


class TcpProxy:
    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = self._server.getsockname()[1]
        self.mode = "up"  # up, refuse, blackhole
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._held: list[socket.socket] = []
        self._closed = False
        self.connections = 0  # accepted while up
        threading.Thread(target=self._accept, name=f"tcp-proxy-{self.port}", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            mode = self.mode
            if mode == "refuse":
                _reset(client)
                continue
            if mode == "blackhole":
                with self._lock:
                    self._held.append(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
                self.connections += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with self._lock:
                    self._open.discard(s)
                _close(s)

    def cut(self, mode: str = "refuse") -> None:
        """Reset every connection; new ones are refused (``refuse``) or hang (``blackhole``)."""
        if mode not in ("refuse", "blackhole"):
            raise ValueError(mode)
        self.mode = mode
        with self._lock:
            conns, self._open = list(self._open), set()
        for s in conns:
            _reset(s)

    def restore(self) -> None:
        self.mode = "up"
        with self._lock:
            held, self._held = self._held, []
        for s in held:
            _reset(s)

    def close(self) -> None:
        self._closed = True
        self.cut()
        self.restore()
        _close(self._server)


def _reset(s: socket.socket) -> None:
    try:  # linger 0: closing sends RST rather than FIN, the peer sees a broken connection at once
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        s.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked reading it
    except OSError:
        pass
    _close(s)


def _close(s: socket.socket) -> None:
    try:
        s.close()
    except OSError:
        pass
