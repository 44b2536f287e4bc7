"""A switchable TCP forwarder: tests put it between the app and the real engine to take the engine "down"."""

from __future__ import annotations

import socket
import threading


class SwitchableProxy:
    """Forwards 127.0.0.1:<port> to a target; while down, it drops every connection at once."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.up = True
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def set_up(self, up: bool) -> None:
        """Bring the link up or down; going down also cuts the connections in use."""
        self.up = up
        if not up:
            with self._lock:
                for sock in list(self._open):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()
                self._open.clear()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.close()
                except OSError:
                    pass
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)

    def close(self) -> None:
        """Stop accepting and cut everything."""
        self.set_up(False)
        self._server.close()
