"""Drives the real `lfm serve` with the official openai Python client (PyPI, pinned in scripts/setup.sh's
venv) and the npm `openai` package: chat (plain, streamed, image, JSON Schema, tools), completions,
usage, errors (400 naming the field, 413, 503 + Retry-After), client disconnects, /metrics and a
graceful SIGTERM. The models are the tiny random ones, so texts are gibberish; what is checked is
the protocol and that streamed and non-streamed runs agree under one seed.

usage: openai_python_test.py --lfm BUILD/lfm --model TINY_TEXT --vl-model TINY_VL [--node-test FILE.mjs]
"""
import argparse
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import traceback
import urllib.request

import jsonschema
import openai

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_fixture import Server  # noqa: E402

FAILURES = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read().decode()


def health(url):
    return json.loads(get(url + "/health")[1])


def wait_until(pred, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def client(url, **kw):
    return openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=120, **kw)


MSG = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say something."}]


def test_chat_plain_and_usage(url):
    c = client(url)
    r = c.chat.completions.create(model="tiny", messages=MSG, max_tokens=12, seed=11, temperature=0.9)
    check(r.object == "chat.completion", r.object)
    check(r.choices[0].message.role == "assistant", r)
    check(isinstance(r.choices[0].message.content, str), r)
    check(r.choices[0].finish_reason in ("stop", "length"), r.choices[0].finish_reason)
    check(r.usage.prompt_tokens > 0 and 0 < r.usage.completion_tokens <= 12, r.usage)
    check(r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, r.usage)
    # max_completion_tokens is the newer name of the same limit.
    r2 = c.chat.completions.create(model="tiny", messages=MSG, max_completion_tokens=3, seed=11, temperature=0.9)
    check(r2.usage.completion_tokens <= 3, r2.usage)


def test_stream_reassembles_to_same_text(url):
    c = client(url)
    for seed in (1, 2, 3):
        plain = c.chat.completions.create(model="tiny", messages=MSG, max_tokens=24, seed=seed, temperature=1.0,
                                          top_p=0.95, extra_body={"top_k": 50, "min_p": 0.01})
        stream = c.chat.completions.create(model="tiny", messages=MSG, max_tokens=24, seed=seed, temperature=1.0,
                                           top_p=0.95, extra_body={"top_k": 50, "min_p": 0.01}, stream=True,
                                           stream_options={"include_usage": True})
        parts, finish, usage, ids = [], None, None, set()
        for chunk in stream:
            ids.add(chunk.id)
            check(chunk.object == "chat.completion.chunk", chunk)
            if chunk.usage is not None:
                usage = chunk.usage
                check(chunk.choices == [], "the usage chunk has no choices")
                continue
            delta = chunk.choices[0].delta
            if delta.content:
                parts.append(delta.content)
            if chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
        check(len(ids) == 1, "one id per stream")
        check("".join(parts) == plain.choices[0].message.content,
              "seed %d: streamed %r != plain %r" % (seed, "".join(parts), plain.choices[0].message.content))
        check(finish == plain.choices[0].finish_reason, (finish, plain.choices[0].finish_reason))
        check(usage is not None and usage.completion_tokens == plain.usage.completion_tokens
              and usage.prompt_tokens == plain.usage.prompt_tokens, (usage, plain.usage))


def test_stop_string(url):
    c = client(url)
    plain = c.chat.completions.create(model="tiny", messages=MSG, max_tokens=30, seed=5, temperature=1.0)
    text = plain.choices[0].message.content
    check(len(text) > 6, "need some text to cut")
    stop = text[4:6]
    cut = c.chat.completions.create(model="tiny", messages=MSG, max_tokens=30, seed=5, temperature=1.0, stop=[stop])
    check(cut.choices[0].finish_reason == "stop", cut.choices[0].finish_reason)
    check(stop not in cut.choices[0].message.content and text.startswith(cut.choices[0].message.content),
          (text, stop, cut.choices[0].message.content))


def test_completions(url):
    c = client(url)
    r = c.completions.create(model="tiny", prompt="Once upon a time", max_tokens=10, seed=4, temperature=0.7)
    check(r.object == "text_completion", r)
    check(r.usage.completion_tokens <= 10 and r.usage.prompt_tokens > 0, r.usage)
    s = c.completions.create(model="tiny", prompt="Once upon a time", max_tokens=10, seed=4, temperature=0.7,
                             stream=True)
    check("".join(ch.choices[0].text for ch in s if ch.choices) == r.choices[0].text, "completion stream differs")


def test_models(url):
    c = client(url)
    ids = [m.id for m in c.models.list()]
    check(ids == ["tiny-lfm2"], ids)


def test_json_schema(url):
    c = client(url)
    schema = {"type": "object",
              "properties": {"ok": {"type": "boolean"}, "color": {"enum": ["red", "green", "blue"]}},
              "required": ["ok", "color"], "additionalProperties": False}
    for seed in (1, 2):
        r = c.chat.completions.create(model="tiny", messages=MSG, max_tokens=200, seed=seed, temperature=1.0,
                                      response_format={"type": "json_schema",
                                                       "json_schema": {"name": "answer", "schema": schema,
                                                                       "strict": True}})
        check(r.choices[0].finish_reason == "stop", r.choices[0].finish_reason)
        value = json.loads(r.choices[0].message.content)
        jsonschema.validate(value, schema)
    r = c.chat.completions.create(model="tiny", messages=MSG, max_tokens=200, seed=3,
                                  response_format={"type": "json_object"})
    if r.choices[0].finish_reason == "stop":
        check(isinstance(json.loads(r.choices[0].message.content), dict), r.choices[0].message.content)
    # llama-server's fields: json_schema and a (Lark) grammar.
    r = c.chat.completions.create(model="tiny", messages=MSG, max_tokens=20, seed=3,
                                  extra_body={"grammar": 'start: "yes" | "no"'})
    check(r.choices[0].message.content in ("yes", "no"), r.choices[0].message.content)
    r = c.chat.completions.create(model="tiny", messages=MSG, max_tokens=50, seed=3,
                                  extra_body={"json_schema": {"enum": ["a", "b"]}})
    check(json.loads(r.choices[0].message.content) in ("a", "b"), r.choices[0].message.content)
    # A schema keyword the engine does not support: 400 naming where the schema came from.
    try:
        c.chat.completions.create(model="tiny", messages=MSG, max_tokens=5,
                                  response_format={"type": "json_schema",
                                                   "json_schema": {"name": "x", "schema": {"type": "object",
                                                                                           "not": {"type": "string"}}}})
        raise AssertionError("unsupported schema accepted")
    except openai.BadRequestError as e:
        check(e.body["param"] == "/response_format/json_schema/schema", e.body)


TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                            "parameters": {"type": "object",
                                                           "properties": {"city": {"type": "string"}},
                                                           "required": ["city"]}}}]


def test_tools(url):
    # A random model never writes the tool-call markers, so this checks that tools and a full tool round
    # trip in the history are accepted and rendered (tests/server checks the tool_calls output shape).
    c = client(url)
    history = [{"role": "user", "content": "Weather in Paris?"},
               {"role": "assistant", "content": None,
                "tool_calls": [{"id": "call_1", "type": "function",
                                "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
               {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21 C"}]
    r = c.chat.completions.create(model="tiny", messages=history, tools=TOOLS, tool_choice="auto", max_tokens=8,
                                  seed=1)
    check(r.choices[0].finish_reason in ("stop", "length", "tool_calls"), r.choices[0].finish_reason)
    with_tools = r.usage.prompt_tokens
    r = c.chat.completions.create(model="tiny", messages=history, tools=TOOLS, tool_choice="none", max_tokens=8,
                                  seed=1)
    check(r.usage.prompt_tokens < with_tools, "tool_choice none should leave the tool list out of the prompt")
    try:
        c.chat.completions.create(model="tiny", messages=history, tools=TOOLS, tool_choice="required", max_tokens=8)
        raise AssertionError("tool_choice required accepted")
    except openai.BadRequestError as e:
        check(e.body["param"] == "/tool_choice", e.body)


def test_bad_requests_name_the_field(url):
    c = client(url)
    cases = [
        (dict(messages=MSG, n=2), "/n"),
        (dict(messages=MSG, temperature=5), "/temperature"),
        (dict(messages=MSG, logprobs=True), "/logprobs"),
        (dict(messages=[{"role": "user", "content": 5}]), "/messages/0/content"),
        (dict(messages=[{"role": "user", "content": [{"type": "image_url",
                                                      "image_url": {"url": "https://example.com/a.png"}}]}]),
         "/messages/0/content/0/image_url/url"),
        (dict(messages=[{"role": "user", "content": [{"type": "image_url",
                                                      "image_url": {"url": "/etc/passwd"}}]}]),
         "/messages/0/content/0/image_url/url"),
    ]
    for kwargs, param in cases:
        try:
            c.chat.completions.create(model="tiny", max_tokens=4, **kwargs)
            raise AssertionError("accepted: %r" % kwargs)
        except openai.BadRequestError as e:
            check(e.status_code == 400 and e.body["param"] == param, (param, e.body))
            check(e.body["type"] == "invalid_request_error", e.body)
    # Not found / wrong method, in the same error shape.
    for method, path, status in (("GET", "/v1/nope", 404), ("GET", "/v1/chat/completions", 405)):
        req = urllib.request.Request(url + path, method=method)
        try:
            urllib.request.urlopen(req, timeout=10)
            raise AssertionError(path + " answered 2xx")
        except urllib.error.HTTPError as e:
            check(e.code == status, (path, e.code))
            check("error" in json.loads(e.read().decode()), path)


def test_oversize_body_is_413(url):
    c = client(url)
    try:
        c.chat.completions.create(model="tiny", max_tokens=4,
                                  messages=[{"role": "user", "content": "x" * (3 << 20)}])
        raise AssertionError("oversize body accepted")
    except openai.APIStatusError as e:
        check(e.status_code == 413, e.status_code)
        check(e.body["code"] == "request_too_large", e.body)


def test_metrics(url):
    status, text = get(url + "/metrics")
    check(status == 200, status)
    for needle in ('lfm_requests_total{endpoint="/v1/chat/completions",status="200"}',
                   'lfm_requests_total{endpoint="/v1/chat/completions",status="400"}',
                   "lfm_prompt_tokens_total", "lfm_completion_tokens_total", "lfm_queue_depth",
                   'lfm_request_duration_seconds{quantile="0.5"}', "lfm_time_to_first_token_seconds_count"):
        check(needle in text, "missing in /metrics: " + needle)
    h = health(url)
    check(h["status"] == "ok" and h["limits"]["max_request_bytes"] == 1 << 20, h)


def png_data_url(path):
    with open(path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode()


def test_image_data_url(vl_url, image):
    c = client(vl_url)
    content = [{"type": "text", "text": "What is in the image?"},
               {"type": "image_url", "image_url": {"url": png_data_url(image)}}]
    r = c.chat.completions.create(model="tiny", messages=[{"role": "user", "content": content}], max_tokens=6,
                                  seed=2)
    text_only = c.chat.completions.create(model="tiny", messages=[{"role": "user", "content": content[:1]}],
                                          max_tokens=6, seed=2)
    check(r.usage.prompt_tokens > text_only.usage.prompt_tokens + 60, (r.usage, text_only.usage))
    s = c.chat.completions.create(model="tiny", messages=[{"role": "user", "content": content}], max_tokens=6,
                                  seed=2, stream=True)
    check("".join(ch.choices[0].delta.content or "" for ch in s if ch.choices) == r.choices[0].message.content,
          "image stream differs")
    # Undecodable: not base64 / not an image / a PNG signature followed by garbage (caught by the decoder).
    bad_pngs = ["data:image/png;base64,@@notbase64@@",
                "data:image/png;base64," + base64.b64encode(b"hello world").decode(),
                "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()]
    for bad in bad_pngs:
        for stream in (False, True):
            try:
                r = c.chat.completions.create(
                    model="tiny", max_tokens=4, stream=stream,
                    messages=[{"role": "user", "content": [{"type": "text", "text": "x"},
                                                           {"type": "image_url", "image_url": {"url": bad}}]}])
                if stream:
                    list(r)
                raise AssertionError("undecodable image accepted: " + bad[:40])
            except openai.BadRequestError as e:
                check(e.body["param"].startswith("/messages/0/content/1"), (bad[:40], e.body))


def raw_request(url, body):
    """Sends a chat request over a plain socket and returns the socket (the response unread)."""
    host, port = url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)))
    data = json.dumps(body).encode()
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
    return s


def cancelled_total(url):
    for line in get(url + "/metrics")[1].splitlines():
        if line.startswith("lfm_requests_cancelled_total "):
            return int(line.split()[1])
    raise AssertionError("no lfm_requests_cancelled_total")


def test_queue_full_and_disconnects(lfm, model):
    with Server(lfm, model, "--parallel", "1", "--queue", "1") as srv:
        url = srv.url
        long_body = {"messages": MSG, "max_tokens": 200000, "ignore_eos": True, "seed": 1}
        # 1 generating (streamed) + 1 waiting (not streamed) fill the server.
        a = raw_request(url, dict(long_body, stream=True))
        wait_until(lambda: health(url)["slots"]["active"] == 1, 30, "the first request to run")
        b = raw_request(url, long_body)
        wait_until(lambda: health(url)["slots"]["waiting"] == 1, 30, "the second request to queue")
        try:
            client(url).chat.completions.create(model="tiny", messages=MSG, max_tokens=2)
            raise AssertionError("a third request was accepted by a full server")
        except openai.APIStatusError as e:
            check(e.status_code == 503, e.status_code)
            check(e.response.headers.get("retry-after") == "1", dict(e.response.headers))
            check(e.body["code"] == "server_busy", e.body)
        # The streaming client goes away: its generation stops, the queued one starts...
        before = cancelled_total(url)
        a.close()
        wait_until(lambda: health(url)["slots"]["waiting"] == 0, 30, "the queued request to start")
        # ...and a non-streaming client that goes away is noticed too.
        b.close()
        wait_until(lambda: health(url)["slots"]["active"] == 0, 30, "the disconnected requests to stop")
        check(cancelled_total(url) >= before + 2, "cancellations not counted")
        r = client(url).chat.completions.create(model="tiny", messages=MSG, max_tokens=2)
        check(r.usage.completion_tokens <= 2, r.usage)
        check(srv.stop() == 0, "exit code")


def test_sigterm_drains(lfm, model):
    with Server(lfm, model) as srv:
        c = client(srv.url)
        stream = c.chat.completions.create(model="tiny", messages=MSG, max_tokens=400, seed=1, stream=True,
                                           extra_body={"ignore_eos": True})
        it = iter(stream)
        next(it)
        srv.proc.terminate()
        n = sum(1 for _ in it)  # the stream runs to its end although the server is stopping
        check(n > 200, "stream cut short after SIGTERM: %d chunks" % n)
        rc = srv.proc.wait(timeout=120)
        check(rc == 0, "exit code %d" % rc)
        check(any("stopped" in l for l in srv.stderr), "".join(srv.stderr))


def test_parallel_clients_match_one_at_a_time(lfm, model):
    """N clients at once get exactly what each gets alone (same seeds): the engine batches their decode
    steps (continuous batching), which must not change any output. Plain and streamed requests mixed."""
    import concurrent.futures
    n = 8
    reqs = []
    for i in range(n):
        msgs = [{"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Request number %d: %s" % (i, "say something " * (1 + i % 3))}]
        reqs.append(dict(messages=msgs, max_tokens=10 + 4 * (i % 4), seed=100 + i,
                         temperature=0.0 if i % 2 == 0 else 0.9, stream=(i % 3 == 0)))

    def one(url, r):
        c = client(url)
        kw = dict(r)
        if kw.pop("stream"):
            parts, finish = [], None
            for ch in c.chat.completions.create(model="tiny", stream=True, **kw):
                if ch.choices:
                    parts.append(ch.choices[0].delta.content or "")
                    finish = ch.choices[0].finish_reason or finish
            return "".join(parts), finish
        out = c.chat.completions.create(model="tiny", **kw)
        return out.choices[0].message.content, out.choices[0].finish_reason

    with Server(lfm, model, "--parallel", str(n)) as srv:
        alone = [one(srv.url, r) for r in reqs]
        for _ in range(2):
            with concurrent.futures.ThreadPoolExecutor(n) as ex:
                together = list(ex.map(lambda r: one(srv.url, r), reqs))
            for i in range(n):
                check(together[i] == alone[i], "request %d: concurrent %r != alone %r" % (i, together[i], alone[i]))
        text = get(srv.url + "/metrics")[1]
        m = re.search(r"^lfm_batch_max_size (\d+)$", text, re.M)
        check(m is not None, "no lfm_batch_max_size in /metrics")
        check(int(m.group(1)) >= 2, "concurrent requests were never batched: " + m.group(0))
        check(srv.stop() == 0, "exit code")


def run(name, fn, *args):
    t0 = time.time()
    try:
        fn(*args)
        print("PASS %s (%.1fs)" % (name, time.time() - t0), flush=True)
    except Exception:  # noqa: BLE001 - report every failure, then fail the run
        FAILURES.append(name)
        print("FAIL %s\n%s" % (name, traceback.format_exc()), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lfm", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--vl-model", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--node-test")
    ap.add_argument("--node-modules")
    args = ap.parse_args()
    print("openai (Python) %s" % openai.__version__, flush=True)
    with Server(args.lfm, args.model, "--max-request-bytes", str(1 << 20)) as srv:
        for name, fn in [("chat_plain_and_usage", test_chat_plain_and_usage),
                         ("stream_reassembles_to_same_text", test_stream_reassembles_to_same_text),
                         ("stop_string", test_stop_string),
                         ("completions", test_completions),
                         ("models", test_models),
                         ("json_schema", test_json_schema),
                         ("tools", test_tools),
                         ("bad_requests_name_the_field", test_bad_requests_name_the_field),
                         ("oversize_body_is_413", test_oversize_body_is_413),
                         ("metrics", test_metrics)]:
            run(name, fn, srv.url)
        if args.node_test:
            env = dict(os.environ, LFM_SERVE_URL=srv.url, LFM_NODE_MODULES=args.node_modules or "")
            t0 = time.time()
            p = subprocess.run(["node", args.node_test], env=env, capture_output=True, text=True, timeout=300)
            sys.stdout.write(p.stdout + p.stderr)
            if p.returncode != 0:
                FAILURES.append("node openai client")
            print("%s node_openai_client (%.1fs)" % ("PASS" if p.returncode == 0 else "FAIL", time.time() - t0))
        rc = srv.stop()
        if rc != 0:
            FAILURES.append("exit code %d" % rc)
    with Server(args.lfm, args.vl_model) as vl:
        run("image_data_url", test_image_data_url, vl.url, args.image)
        vl.stop()
    run("parallel_clients_match_one_at_a_time", test_parallel_clients_match_one_at_a_time, args.lfm, args.model)
    run("queue_full_and_disconnects", test_queue_full_and_disconnects, args.lfm, args.model)
    run("sigterm_drains", test_sigterm_drains, args.lfm, args.model)
    if FAILURES:
        print("FAILED: " + ", ".join(FAILURES))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
