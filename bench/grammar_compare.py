#!/usr/bin/env python3
"""Grammar engines side by side on JSONSchemaBench with the real LFM2.5 tokenizer: lfm.cpp, llguidance and
XGrammar, in one run, on exactly the same records and token sequences. Run it through bench/grammar_compare.sh
(which builds grammar_bench and uses the scripts/refs.sh venv); by hand:

    build/grammar_bench --tokenizer T --stride N --coverage --json ours.json --dump-tokens tokens.jsonl
    build-refs/venv/bin/python bench/grammar_compare.py --tokenizer T --tokens tokens.jsonl --ours ours.json

Every engine: single thread; compile = schema -> matcher-ready grammar; TTFM = compile + the first mask;
mask = one next-token mask per token while replaying each valid instance through a fresh matcher (cold, as a
request sees it); coverage = a record passes when it compiles, every valid instance is accepted token by token
with EOS allowed at the end, and every invalid instance is rejected. Token sequences are lfm.cpp's greedy
longest-match split of the compact serialisation (grammar_bench --dump-tokens), so all three see the same ids.
Options are set so the three compile the same language: compact separators (",", ":"), no extra whitespace,
and JSON Schema semantics for unlisted properties (XGrammar strict_mode=False).
"""
import argparse
import json
import os
import statistics
import sys
import time


def pct(v, p):
    if not v:
        return 0.0
    s = sorted(v)
    return s[min(len(s) - 1, int(p / 100.0 * (len(s) - 1) + 0.5))]


def gpt2_byte_decoder():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def vocab_bytes(tokenizer_json):
    """token id -> raw bytes (GPT-2 byte map undone); special added tokens -> b"" (never producible)."""
    dec = gpt2_byte_decoder()
    vocab = tokenizer_json["model"]["vocab"]
    size = max(max(vocab.values()), max(a["id"] for a in tokenizer_json["added_tokens"])) + 1
    out = [b""] * size
    for tok, i in vocab.items():
        out[i] = bytes(dec[ch] for ch in tok)
    for a in tokenizer_json["added_tokens"]:
        out[a["id"]] = b"" if a["special"] else a["content"].encode("utf-8")
    return out


class Llguidance:
    name = "llguidance"

    def __init__(self, tokenizer_text, eos):
        import llguidance
        self.ll = llguidance
        from importlib.metadata import version
        self.version = version("llguidance")
        self.tok = llguidance.LLTokenizer(tokenizer_text, eos_token=eos)

    def compile(self, schema):
        g = self.ll.LLMatcher.grammar_from_json_schema(schema)
        m = self.ll.LLMatcher(self.tok, g)
        if m.is_error():
            raise ValueError(m.get_error())
        return g

    def matcher(self, compiled):
        return _LlgMatcher(self.ll.LLMatcher(self.tok, compiled))


class _LlgMatcher:
    def __init__(self, m):
        self.m = m

    def mask(self):
        self.m.compute_bitmask()

    def accept(self, tok):
        return self.m.consume_token(tok)

    def accepting(self):
        return self.m.is_accepting()


class Xgrammar:
    name = "XGrammar"

    def __init__(self, vocab, eos):
        import xgrammar as xgr
        self.xgr = xgr
        from importlib.metadata import version
        self.version = version("xgrammar")
        info = xgr.TokenizerInfo(vocab, vocab_type=xgr.VocabType.RAW, vocab_size=len(vocab), stop_token_ids=[eos])
        self.compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=False)
        self.bitmask = xgr.allocate_token_bitmask(1, len(vocab))
        self.eos = eos

    def compile(self, schema):
        return self.compiler.compile_json_schema(json.dumps(schema), any_whitespace=False, separators=(",", ":"),
                                                 strict_mode=False)

    def matcher(self, compiled):
        return _XgrMatcher(self.xgr.GrammarMatcher(compiled), self.bitmask, self.eos)


class _XgrMatcher:
    def __init__(self, m, bitmask, eos):
        self.m, self.bitmask, self.eos = m, bitmask, eos

    def mask(self):
        self.m.fill_next_token_bitmask(self.bitmask)

    def accept(self, tok):
        return self.m.accept_token(tok)

    def accepting(self):
        return self.m.accept_token(self.eos)


def run_engine(engine, records, schemas):
    compile_ms, ttfm_ms, mask_us = [], [], []
    cov = dict(records=0, compiled=0, passing=0, valid=0, valid_rejected=0, invalid=0, invalid_accepted=0)
    for rec in records:
        cov["records"] += 1
        schema = schemas[rec["file"]]
        t0 = time.perf_counter()
        try:
            compiled = engine.compile(schema)
        except Exception:  # noqa: BLE001 - any refusal counts as not compiled
            continue
        ms = (time.perf_counter() - t0) * 1e3
        cov["compiled"] += 1
        compile_ms.append(ms)
        first = None
        ok = True
        for test in rec["tests"]:
            valid = test["valid"]
            cov["valid" if valid else "invalid"] += 1
            m = engine.matcher(compiled)
            accepted = True
            for tok in test["ids"]:
                t = time.perf_counter()
                m.mask()
                us = (time.perf_counter() - t) * 1e6
                if valid:
                    mask_us.append(us)
                    if first is None:
                        first = us
                if not m.accept(tok):
                    accepted = False
                    break
            if accepted:
                accepted = m.accepting()
            if valid and not accepted:
                cov["valid_rejected"] += 1
                ok = False
            elif not valid and accepted:
                cov["invalid_accepted"] += 1
                ok = False
        if first is None:
            m = engine.matcher(compiled)
            t = time.perf_counter()
            m.mask()
            first = (time.perf_counter() - t) * 1e6
        ttfm_ms.append(ms + first / 1e3)
        if ok:
            cov["passing"] += 1
    stats = lambda v: dict(n=len(v), mean=statistics.fmean(v) if v else 0, p50=pct(v, 50), p99=pct(v, 99),
                           max=max(v) if v else 0)
    return dict(engine=engine.name, version=engine.version, compile_ms=stats(compile_ms), ttfm_ms=stats(ttfm_ms),
                mask_cold_us=stats(mask_us), coverage=cov)


def table(results):
    rows = ["| engine | compiled | passing | valid rejected | invalid accepted | compile ms mean / p50 / p99 | "
            "TTFM ms mean / p99 | mask µs p50 / p99 (cold) |",
            "|---|---|---|---|---|---|---|---|"]
    for r in results:
        c, cm, tt, mk = r["coverage"], r["compile_ms"], r["ttfm_ms"], r["mask_cold_us"]
        rows.append(f"| {r['engine']} {r.get('version', '')} | {c['compiled']} / {c['records']} | "
                    f"{c['passing']} ({100.0 * c['passing'] / max(1, c['records']):.1f}%) | "
                    f"{c['valid_rejected']} / {c['valid']} | {c['invalid_accepted']} / {c['invalid']} | "
                    f"{cm['mean']:.3f} / {cm['p50']:.3f} / {cm['p99']:.2f} | {tt['mean']:.3f} / {tt['p99']:.2f} | "
                    f"{mk['p50']:.1f} / {mk['p99']:.1f} |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--tokens", required=True, help="grammar_bench --dump-tokens output")
    ap.add_argument("--ours", required=True, help="grammar_bench --json output (same run, same records)")
    ap.add_argument("--testdata", default=os.environ.get("LFM_TESTDATA_DIR"))
    ap.add_argument("--eos", type=int, default=7)
    ap.add_argument("--out", help="write all results as JSON here")
    args = ap.parse_args()
    records = [json.loads(l) for l in open(args.tokens, encoding="utf-8")]
    data = os.path.join(args.testdata, "jsonschemabench", "maskbench-data")
    schemas = {r["file"]: json.load(open(os.path.join(data, r["file"]), encoding="utf-8"))["schema"] for r in records}
    tokenizer_text = open(args.tokenizer, encoding="utf-8").read()
    vocab = vocab_bytes(json.loads(tokenizer_text))
    ours = json.load(open(args.ours))
    ours["engine"], ours["version"] = "lfm.cpp", ""
    results = [ours]
    for make in (lambda: Llguidance(tokenizer_text, args.eos), lambda: Xgrammar(vocab, args.eos)):
        engine = make()
        print(f"running {engine.name} {engine.version} on {len(records)} records ...", file=sys.stderr)
        results.append(run_engine(engine, records, schemas))
    print(f"JSONSchemaBench, {len(records)} records (every {ours.get('stride', '?')}th), tokenizer "
          f"{os.path.basename(os.path.dirname(args.tokenizer))}/{os.path.basename(args.tokenizer)} "
          f"({len(vocab)} tokens), single thread:\n")
    print(table(results))
    if args.out:
        json.dump(results, open(args.out, "w"), indent=2)


if __name__ == "__main__":
    main()
