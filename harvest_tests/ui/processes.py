"""Servers started as child processes in tests: free loopback ports, and their output waited on line by line."""

from __future__ import annotations

import queue
import socket
import subprocess
import threading
import time


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Output:
    """What a child process prints (stdout with stderr merged into it), read by a thread as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        if process.stdout is None:
            raise ValueError("start the process with stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True")
        self.process = process
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, text: str, timeout_s: float) -> str:
        """The next line containing `text`; fails with the output so far after `timeout_s` or at exit."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} within {timeout_s:.0f} s:\n{self.tail()}") from None
            if line is None:
                self._lines.put(None)  # later waits fail the same way
                code = self.process.wait()
                raise AssertionError(f"exited with {code} before printing {text!r}:\n{self.tail()}")
            self.seen.append(line)
            if text in line:
                return line

    def drain(self) -> None:
        """Collect everything printed until the process closes its output (call once it has exited)."""
        self._reader.join(timeout=30)
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return
            if line is not None:
                self.seen.append(line)

    def text(self) -> str:
        """The lines seen so far."""
        return "".join(self.seen)

    def tail(self, lines: int = 60) -> str:
        """The last lines seen, for failure messages."""
        return "".join(self.seen[-lines:])
