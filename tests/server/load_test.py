#!/usr/bin/env python3
"""Serving checks and a bounded load test against the real `lfm serve` (loopback only, stdlib only).

1. Caches (issue 14): turn 2 of a conversation prefills only its new tokens (usage.prompt_tokens_details
   and /metrics lfm_prompt_tokens_prefilled_total); an image sent twice goes through the vision tower
   once (lfm_image_cache_misses_total / hits).
2. Cancellation while waiting: with --parallel 1, a request queued behind a long one whose client
   disconnects leaves the queue at once (lfm_queue_depth back to 0, lfm_requests_cancelled_total + 1)
   while the long one still runs.
3. Load: --clients threads for --seconds, mixed requests (text, image data URLs, JSON Schema, streamed,
   multi-turn with a shared system prompt), some clients disconnecting early. Passes when the server
   never crashes, every request that waited for its answer got 200, 4xx or 503, and RSS stays
   bounded (VmRSS / VmHWM of the server sampled from /proc; the peak must stay under --max-rss-mib
   and the RSS of the last quarter may not exceed the first quarter's peak by more than
   --max-rss-growth-mib). Prints the figures.

usage: load_test.py --lfm BUILD/lfm --model TINY_VL_DIR --images DIR [--clients 32] [--seconds 25]
CI runs a ~25 s version (ctest -R server_load); the full run: --seconds 110 (see README, Serving).
"""
import argparse
import base64
import http.client
import json
import os
import random
import re
import socket
import sys
import threading
import time
import urllib.request
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients"))
from serve_fixture import Server  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def metrics(url):
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$", line)
        if m:
            key = m.group(1) + (m.group(2) or "")
            out[key] = float(m.group(3))
    return out


def host_port(url):
    m = re.match(r"http://([^:/]+):(\d+)", url)
    return m.group(1), int(m.group(2))


def post(url, path, body, timeout=120):
    host, port = host_port(url)
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        return r.status, data
    finally:
        c.close()


def chat(url, messages, **kw):
    body = {"messages": messages, "temperature": 0, "seed": 1, "max_tokens": kw.pop("max_tokens", 6)}
    body.update(kw)
    status, data = post(url, "/v1/chat/completions", body)
    check(status == 200, "chat: HTTP %d %s" % (status, data[:300]))
    return json.loads(data)


def png(width, height, seed):
    """A small random RGB PNG (stdlib zlib only)."""
    rnd = random.Random(seed)
    raw = b"".join(b"\x00" + bytes(rnd.randrange(256) for _ in range(width * 3)) for _ in range(height))

    def chunk(kind, data):
        return (len(data).to_bytes(4, "big") + kind + data +
                (zlib.crc32(kind + data) & 0xFFFFFFFF).to_bytes(4, "big"))

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def data_url(raw, mime="image/png"):
    return "data:%s;base64,%s" % (mime, base64.b64encode(raw).decode())


def image_message(url_, text):
    return {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url_}},
                                        {"type": "text", "text": text}]}


SYSTEM = {"role": "system", "content": "You are a careful assistant. Answer briefly and in plain English."}


def test_caches(url, image_path):
    before = metrics(url)
    m1 = [SYSTEM, {"role": "user", "content": "Tell me about rivers."}]
    r1 = chat(url, m1, max_tokens=8, ignore_eos=True)
    t1 = r1["usage"]["prompt_tokens"]
    mid = metrics(url)
    m2 = m1 + [{"role": "assistant", "content": r1["choices"][0]["message"]["content"]},
               {"role": "user", "content": "And about lakes?"}]
    r2 = chat(url, m2, max_tokens=4)
    after = metrics(url)
    t2 = r2["usage"]["prompt_tokens"]
    cached = r2["usage"]["prompt_tokens_details"]["cached_tokens"]
    prefilled = after["lfm_prompt_tokens_prefilled_total"] - mid["lfm_prompt_tokens_prefilled_total"]
    print("turn 1: %d prompt tokens; turn 2: %d prompt tokens, %d from the prefix cache, %d prefilled"
          % (t1, t2, cached, prefilled))
    check(cached >= t1, "turn 2 reused %d tokens, less than turn 1's whole prompt (%d)" % (cached, t1))
    check(prefilled == t2 - cached, "/metrics says %d prefilled, usage says %d" % (prefilled, t2 - cached))
    check(after["lfm_prefix_cache_tokens_reused_total"] - mid["lfm_prefix_cache_tokens_reused_total"] == cached,
          "lfm_prefix_cache_tokens_reused_total does not match usage")
    check(after["lfm_prefix_cache_bytes"] > 0, "no prefix snapshot held")

    with open(image_path, "rb") as f:
        img = data_url(f.read())
    miss0 = after.get("lfm_image_cache_misses_total", 0)
    hit0 = after.get("lfm_image_cache_hits_total", 0)
    i1 = [image_message(img, "What is in this picture?")]
    ri1 = chat(url, i1, max_tokens=4)
    i2 = i1 + [{"role": "assistant", "content": ri1["choices"][0]["message"]["content"]},
               {"role": "user", "content": "Anything else?"}]
    ri2 = chat(url, i2, max_tokens=4)
    m = metrics(url)
    misses, hits = m["lfm_image_cache_misses_total"] - miss0, m["lfm_image_cache_hits_total"] - hit0
    print("image sent twice: encoded %d time(s), %d cache hit(s); turn 2 reused %d of %d prompt tokens"
          % (misses, hits, ri2["usage"]["prompt_tokens_details"]["cached_tokens"], ri2["usage"]["prompt_tokens"]))
    check(misses == 1 and hits == 1, "the image was encoded %d times (hits %d)" % (misses, hits))
    check(ri2["usage"]["prompt_tokens_details"]["cached_tokens"] >= ri1["usage"]["prompt_tokens"],
          "turn 2 with the image did not reuse turn 1's prompt")
    del before


def raw_request(url, body):
    host, port = host_port(url)
    s = socket.create_connection((host, port), timeout=30)
    data = json.dumps(body).encode()
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
    return s


def wait_until(pred, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred():
            return time.time()
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def test_cancel_while_queued(lfm, model):
    with Server(lfm, model, "--parallel", "1", "--queue", "4") as srv:
        url = srv.url
        long_req = raw_request(url, {"messages": [{"role": "user", "content": "Go on forever."}],
                                     "max_tokens": 100000, "ignore_eos": True, "temperature": 0})
        wait_until(lambda: metrics(url)["lfm_requests_active"] == 1, 30, "the long request to start")
        queued = raw_request(url, {"messages": [{"role": "user", "content": "Me next."}], "max_tokens": 4})
        wait_until(lambda: metrics(url)["lfm_queue_depth"] == 1, 30, "the second request to queue")
        cancelled0 = metrics(url)["lfm_requests_cancelled_total"]
        t0 = time.time()
        queued.close()
        t1 = wait_until(lambda: metrics(url)["lfm_queue_depth"] == 0, 5, "the closed request to leave the queue")
        m = metrics(url)
        print("a queued request whose client left was dropped after %.0f ms (the long request still running: %s)"
              % ((t1 - t0) * 1e3, m["lfm_requests_active"] == 1))
        check(m["lfm_requests_active"] == 1, "the long request should still run")
        check(m["lfm_requests_cancelled_total"] == cancelled0 + 1, "the drop was not counted")
        long_req.close()
        wait_until(lambda: metrics(url)["lfm_requests_active"] == 0, 30, "the long request to stop")
        check(srv.stop() == 0, "lfm serve did not exit cleanly")


class Rss:
    def __init__(self, pid, period=0.25):
        self.pid, self.period = pid, period
        self.samples = []  # (t, rss_kib, hwm_kib)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        t0 = time.time()
        while not self.stop.is_set():
            try:
                with open("/proc/%d/status" % self.pid) as f:
                    st = f.read()
                rss = int(re.search(r"VmRSS:\s+(\d+)", st).group(1))
                hwm = int(re.search(r"VmHWM:\s+(\d+)", st).group(1))
                self.samples.append((time.time() - t0, rss, hwm))
            except (OSError, AttributeError):
                return
            self.stop.wait(self.period)


def load(url, pid, clients, seconds, images, seed):
    rnd = random.Random(seed)
    pictures = [data_url(open(p, "rb").read(), "image/jpeg" if p.endswith(".jpg") else "image/png") for p in images]
    pictures += [data_url(png(48 + 16 * i, 40 + 8 * i, i)) for i in range(4)]
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"]}
    counts, lock = {}, threading.Lock()
    bad = []
    deadline = time.time() + seconds

    def record(kind, status):
        with lock:
            counts[(kind, status)] = counts.get((kind, status), 0) + 1
            ok = status == "disconnected" or (isinstance(status, int) and (status == 200 or 400 <= status < 500 or
                                                                           status == 503))
            if not ok:
                bad.append((kind, status))

    def one(r):
        kind = r.choice(["text", "text", "multi", "image", "image", "schema", "stream", "disconnect", "bad"])
        body = {"max_tokens": r.randint(1, 24), "temperature": r.choice([0, 0.8]), "seed": r.randint(0, 1 << 30)}
        if kind == "text":
            body["messages"] = [{"role": "user", "content": "Count to %d." % r.randint(1, 99)}]
        elif kind == "multi":
            body["messages"] = [SYSTEM, {"role": "user", "content": "Hi."}, {"role": "assistant", "content": "Hello."},
                                {"role": "user", "content": "Question %d?" % r.randint(0, 5)}]
        elif kind == "image":
            body["messages"] = [image_message(r.choice(pictures), "Describe.")]
        elif kind == "schema":
            body["messages"] = [{"role": "user", "content": "A person as JSON."}]
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "p", "schema": schema}}
            body["max_tokens"] = 40
        elif kind == "stream":
            body["messages"] = [{"role": "user", "content": "Stream a few words."}]
            body["stream"] = True
        elif kind == "disconnect":
            body["messages"] = [r.choice([{"role": "user", "content": "Long answer please."},
                                          image_message(r.choice(pictures), "Describe at length.")])]
            body["max_tokens"] = 200
            s = raw_request(url, body)
            time.sleep(r.uniform(0, 0.5))
            if r.random() < 0.5:
                try:
                    s.recv(r.randint(1, 200))
                except OSError:
                    pass
            s.close()
            record(kind, "disconnected")
            return
        else:  # bad input: must be a 4xx
            body["messages"] = [{"role": "user", "content": [{"type": "image_url",
                                                              "image_url": {"url": "data:image/png;base64,AAAA"}}]}]
        try:
            status, _ = post(url, "/v1/chat/completions", body, timeout=300)
        except (OSError, http.client.HTTPException) as e:
            status = "error: %s" % e
        record(kind, status)
        if status == 503:
            time.sleep(r.uniform(0.2, 1.0))  # Retry-After says 1 s; clients back off, jittered

    def worker(i):
        r = random.Random(seed * 1000 + i)
        while time.time() < deadline:
            one(r)

    rss = Rss(pid)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    rss.stop.set()
    rss.thread.join()
    del rnd
    return counts, bad, rss.samples, elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lfm", required=True)
    ap.add_argument("--model", required=True, help="a tiny LFM2-VL model directory")
    ap.add_argument("--images", required=True, help="directory with camera.png, chelsea.png, rocket.jpg")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=25)
    ap.add_argument("--max-rss-mib", type=float, default=2048)
    ap.add_argument("--max-rss-growth-mib", type=float, default=256)
    ap.add_argument("--cache-ram-mib", type=int, default=16)
    ap.add_argument("--skip-checks", action="store_true", help="only the load test")
    a = ap.parse_args()
    check(a.seconds <= 120, "the load test is bounded to 2 minutes")
    images = [os.path.join(a.images, n) for n in ("camera.png", "chelsea.png", "rocket.jpg")]
    if not a.skip_checks:
        with Server(a.lfm, a.model) as srv:
            test_caches(srv.url, images[0])
            check(srv.stop() == 0, "lfm serve did not exit cleanly")
        test_cancel_while_queued(a.lfm, a.model)
    # Small cache budgets, so that the run reaches them: RSS must level off while the caches evict.
    with Server(a.lfm, a.model, "--parallel", "4", "--queue", "16", "--cache-ram", str(a.cache_ram_mib),
                "--image-cache-ram", "4") as srv:
        counts, bad, samples, elapsed = load(srv.url, srv.proc.pid, a.clients, a.seconds, images, 7)
        alive = srv.proc.poll() is None
        m = metrics(srv.url) if alive else {}
        rc = srv.stop()
    total = sum(counts.values())
    by_status = {}
    for (kind, status), n in counts.items():
        by_status[str(status)] = by_status.get(str(status), 0) + n
    print("load: %d clients, %.1f s, %d requests (%.1f/s): %s" % (a.clients, elapsed, total, total / elapsed,
                                                                json.dumps(by_status, sort_keys=True)))
    for kind in sorted({k for k, _ in counts}):
        print("  %-10s %s" % (kind, {str(s): n for (k, s), n in sorted(counts.items(), key=str) if k == kind}))
    if samples:
        peak = max(h for _, _, h in samples) / 1024
        quarter = max(1, len(samples) // 4)
        first_q = max(r for _, r, _ in samples[:quarter]) / 1024
        last_q = max(r for _, r, _ in samples[-quarter:]) / 1024
        print("RSS: start %.0f MiB, first-quarter peak %.0f MiB, last-quarter peak %.0f MiB, end %.0f MiB, "
              "VmHWM %.0f MiB (%d samples)" % (samples[0][1] / 1024, first_q, last_q, samples[-1][1] / 1024, peak,
                                               len(samples)))
    if m:
        print("server: %d cancelled, prefix cache %d hits / %d misses (%d tokens reused, %.1f MiB held, %d evictions), "
              "image cache %d hits / %d misses (%.1f MiB held), largest decode batch %d"
              % (m["lfm_requests_cancelled_total"], m["lfm_prefix_cache_hits_total"], m["lfm_prefix_cache_misses_total"],
                 m["lfm_prefix_cache_tokens_reused_total"], m["lfm_prefix_cache_bytes"] / 2**20,
                 m["lfm_prefix_cache_evictions_total"],
                 m["lfm_image_cache_hits_total"], m["lfm_image_cache_misses_total"], m["lfm_image_cache_bytes"] / 2**20,
                 m["lfm_batch_max_size"]))
    check(alive, "lfm serve died during the load test:\n" + "".join(srv.stderr[-20:]))
    check(rc == 0, "lfm serve exited with %s after SIGTERM" % rc)
    check(not bad, "requests answered with something other than 200/4xx/503: %s" % bad[:10])
    check(by_status.get("200", 0) > 0, "no request succeeded")
    check(samples, "no RSS samples")
    check(peak <= a.max_rss_mib, "VmHWM %.0f MiB over the bound %.0f MiB" % (peak, a.max_rss_mib))
    check(last_q <= first_q + a.max_rss_growth_mib,
          "RSS grew from %.0f to %.0f MiB over the run" % (first_q, last_q))
    print("PASS")


if __name__ == "__main__":
    main()
