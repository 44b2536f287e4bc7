"""Before `govbot run` starts anything: is a port it needs already taken (often by an engine or app
left running by an earlier run), and by which process."""

from __future__ import annotations

import socket

import psutil


class PortInUse(Exception):
    """A port the stack must listen on is taken; the message says by whom and what to do."""


def is_free(host: str, port: int) -> bool:
    """Whether a server could listen on `host:port` now (bound as servers bind: SO_REUSEADDR, so a
    closing connection in TIME_WAIT does not count)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return True  # not ours to judge: the server reports a bad address itself
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError:
            return False
    return True


def holder(port: int) -> tuple[int, str] | None:
    """The pid and command line of the process listening on `port`, when this user may see it."""
    try:
        connections = psutil.net_connections(kind="inet")
    except (psutil.Error, OSError):
        return None
    for connection in connections:
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port == port
            and connection.pid
        ):
            try:
                command = " ".join(psutil.Process(connection.pid).cmdline())
            except psutil.Error:
                command = ""
            return connection.pid, command
    return None


def check_free(ports: dict[str, tuple[str, int]], setting: dict[str, str]) -> None:
    """Raise PortInUse for the first of `ports` (role -> (host, port)) that is taken; `setting`
    names the setting that moves each role's port."""
    for role, (host, port) in ports.items():
        if is_free(host, port):
            continue
        found = holder(port)
        if found is None:
            who = "another process"
            advice = f"stop it or choose another {setting[role]}"
        else:
            pid, command = found
            shown = command if len(command) <= 80 else command[:77] + "..."
            ours = any(name in command for name in ("rasa", "bot.cli", "govbot"))
            stale = " (left running by an earlier `govbot run`?)" if ours else ""
            who = f"pid {pid}{f' ({shown})' if shown else ''}{stale}"
            advice = f"stop it (kill {pid}) or choose another {setting[role]}"
        raise PortInUse(f"port {port} ({role}) is already in use by {who}: {advice}")
