"""Starts the real `lfm serve` on 127.0.0.1 with an ephemeral port and stops it (SIGTERM)."""
import os
import re
import subprocess
import threading
import time


class Server:
    def __init__(self, lfm, model, *extra):
        self.proc = subprocess.Popen([lfm, "serve", "-m", model, "--host", "127.0.0.1", "--port", "0", *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.stderr = []
        deadline = time.time() + 60
        self.url = None
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.stderr.append(line)
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                self.url = m.group(1)
                break
        if self.url is None:
            self.proc.kill()
            raise RuntimeError("lfm serve did not start:\n" + "".join(self.stderr))
        # Keep draining stderr so the server never blocks on a full pipe.
        self._drain = threading.Thread(target=lambda: [self.stderr.append(l) for l in self.proc.stderr], daemon=True)
        self._drain.start()

    def stop(self, timeout=60):
        """SIGTERM, then the exit code (the server drains in-flight requests first)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        rc = self.proc.wait(timeout=timeout)
        self._drain.join(timeout=5)
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
