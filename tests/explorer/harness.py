"""What the explorer's tests share: the models they explore, a running `integrad serve`, and a
client that speaks its API (stdlib only)."""
import http.client
import json
import os
import re
import subprocess
import sys
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
BIN = os.path.join(BUILD, "integrad")
MODELS = os.path.join(BUILD, "explorer-models")


def integrad(*args):
    """Runs the CLI; returns its standard output."""
    r = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"integrad {' '.join(map(str, args))} failed:\n{r.stderr}")
    return r.stdout


def train_models():
    """Small models, trained once for all the explorer's tests (a CTest fixture)."""
    os.makedirs(MODELS, exist_ok=True)
    jobs = {
        "cnn.safetensors": ["--arch", "cnn", "--data", "synthetic-patches", "--limit", "2000", "--val-limit", "100", "--epochs", "2"],
        "cnn2.safetensors": ["--arch", "cnn", "--data", "synthetic-patches", "--limit", "400", "--val-limit", "100", "--epochs", "1", "--seed", "7"],
        "tabular.safetensors": ["--arch", "tabular", "--limit", "2000", "--val-limit", "200", "--epochs", "10"],
        "text.safetensors": ["--arch", "text", "--limit", "2000", "--val-limit", "100", "--lr", "0.01", "--epochs", "2"],
        # a graph model (named nodes, modules such as layer1): the layer picker
        "resnet.safetensors": ["--arch", "resnet", "--data", "synthetic-patches", "--limit", "300", "--val-limit", "50", "--epochs", "1"],
    }
    for name, args in jobs.items():
        integrad("train", *args, "-q", "-o", os.path.join(MODELS, name))


def model(name):
    return os.path.join(MODELS, name)


class Server:
    """`integrad serve ARGS --port 0` on loopback; the address from its first lines."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([BIN, "serve", *map(str, args), "--port", "0", "--host", "127.0.0.1"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        self.port = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"open http://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("integrad serve did not start: " + self.proc.stderr.read())
        self.url = f"http://127.0.0.1:{self.port}/"
        page = self.request("GET", "/", token=False)[1]
        self.token = re.search(r'name="integrad-token" content="([0-9a-f]{32})"', page.decode()).group(1)

    def request(self, method, path, body=None, token=True, headers=None, raw=False):
        """(status, body bytes, response headers)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = {"Host": f"127.0.0.1:{self.port}"}
        if token:
            h["X-Integrad-Token"] = self.token
        if body is not None:
            h["Content-Type"] = "application/json"
            if not raw:
                body = json.dumps(body)
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data, dict(r.getheaders())

    def api(self, method, path, body=None, **kw):
        status, data, _ = self.request(method, path, body, **kw)
        return status, json.loads(data)

    def run(self, body):
        """A request run to its end (?wait=1): the result, or an AssertionError with the message."""
        status, j = self.api("POST", "/api/run?wait=1", body)
        assert status == 200, f"HTTP {status}: {j}"
        return j["result"]

    def stop(self):
        """SIGTERM, as Ctrl-C: the server finishes its jobs' current passes and exits 0 (under the
        sanitizers: with no leak or error report)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise RuntimeError("integrad serve did not stop on SIGTERM")
        if self.proc.returncode != 0:
            raise RuntimeError(f"integrad serve exited with {self.proc.returncode} on SIGTERM: {self.proc.stderr.read()[-3000:]}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
