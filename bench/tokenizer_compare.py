#!/usr/bin/env python3
"""Encode throughput of our tokenizer and Hugging Face `tokenizers`, side by side, on the same strings.

    python3 -m venv /tmp/tok && /tmp/tok/bin/pip install tokenizers     (or the scripts/refs.sh venv)
    /tmp/tok/bin/python bench/tokenizer_compare.py [--bench build/tokenizer_bench] [--reps 5]

Both encode the 25k strings of tests/text/data/lfm2.5-vl-450m/corpus.jsonl (prose, code, JSON, numbers,
whitespace runs, CJK, Arabic, Devanagari, emoji, special tokens in text) with the real LFM2.5-VL-450M
tokenizer.json, one call per string, on one thread, no special tokens added: ours through
tokenizer_bench's BM_EncodeRealTokenizerCorpus, HF's through Tokenizer.encode (its single-thread path).
HF's encode_batch (one thread per core) is printed too. Medians of --reps runs, interleaved.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

from tokenizers import Tokenizer
import tokenizers

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DATA = os.path.join(ROOT, "tests", "text", "data", "lfm2.5-vl-450m")


def ours(bench):
    out = subprocess.run([bench, "--benchmark_filter=BM_EncodeRealTokenizerCorpus", "--benchmark_format=json"],
                         check=True, capture_output=True, text=True).stdout
    b = json.loads(out)["benchmarks"][0]
    return b["bytes_per_second"] / 1e6, int(b["tokens"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "tokenizer_bench"))
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    with open(os.path.join(DATA, "corpus.jsonl"), encoding="utf-8") as f:
        corpus = [json.loads(line) for line in f if line.strip()]
    nbytes = sum(len(s.encode("utf-8")) for s in corpus)
    tok = Tokenizer.from_file(os.path.join(DATA, "tokenizer.json"))
    hf, hf_batch, us = [], [], []
    hf_tokens = our_tokens = 0
    for _ in range(args.reps):
        t0 = time.perf_counter()
        hf_tokens = sum(len(tok.encode(s, add_special_tokens=False).ids) for s in corpus)
        hf.append(nbytes / (time.perf_counter() - t0) / 1e6)
        t0 = time.perf_counter()
        tok.encode_batch(corpus, add_special_tokens=False)
        hf_batch.append(nbytes / (time.perf_counter() - t0) / 1e6)
        mbs, our_tokens = ours(args.bench)
        us.append(mbs)
    print(f"{len(corpus)} strings, {nbytes / 1e6:.2f} MB, tokens: ours {our_tokens}, HF {hf_tokens}")
    print("| tokenizer | MB/s (median of %d) |" % args.reps)
    print("|---|---:|")
    print(f"| lfm.cpp, 1 thread | {statistics.median(us):.2f} |")
    print(f"| HF tokenizers {tokenizers.__version__} encode, 1 thread | {statistics.median(hf):.2f} |")
    print(f"| HF tokenizers encode_batch, {os.cpu_count()} threads | {statistics.median(hf_batch):.2f} |")
    print(f"ours / HF (1 thread): {statistics.median(us) / statistics.median(hf):.2f}x")


if __name__ == "__main__":
    main()
