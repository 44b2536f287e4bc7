"""A switchable TCP forwarder: tests put it between the app and the real engine to take the
engine "down"."""

from __future__ import annotations

import socket
import threading
import time


class SwitchableProxy:
    """Forwards 127.0.0.1:<port> to a target; while down, it drops every connection at once."""

    def __init__(self, target_port: int, response_delay_s: float = 0.0) -> None:
        self.target_port = target_port
        self.up = True
        self.response_delay_s = (
            response_delay_s  # holds every answer back: "the engine is mid-call"
        )
        self.engine_calls = 0  # turns sent to the engine's input channel seen going through
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
            for a, b, is_response in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pipe, args=(a, b, is_response), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, is_response: bool) -> None:
        try:
            while data := source.recv(65536):
                if data.startswith(b"POST /webhooks/govbot/webhook"):
                    self.engine_calls += 1
                if (
                    is_response and self.response_delay_s
                ):  # read now: kept-alive connections slow down too
                    time.sleep(self.response_delay_s)
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
