#!/usr/bin/env python3
"""Expected ids for the real LFM2.5-VL tokenizer from Hugging Face `tokenizers` (PyPI, the Rust library).

    build-refs/venv/bin/python tools/refs/make_lfm2_tokenizer_goldens.py   (scripts/refs.sh runs it)

Input:  tests/text/data/lfm2.5-vl-450m/{tokenizer.json, corpus.jsonl}
Output: tests/text/data/lfm2.5-vl-450m/golden.txt, one line per corpus string, in corpus order, six
space-separated fields: N IDS N_PLAIN IDS_PLAIN DEC DEC_SKIP where N is the number of ids, IDS the
FNV-1a 64 (hex) of the ids as int32 little-endian, DEC the FNV-1a 64 of decode(ids, skip_special_tokens=False)
as UTF-8 and DEC_SKIP the same with skip_special_tokens=True.
"ids" are encode(text, add_special_tokens=True) (the post-processor adds BOS), "ids_plain" with False.
Hashes keep the golden small; tests/text/tokenizer_real_lfm2_test.cpp prints our ids on a mismatch and
`--show N` here prints the reference for line N. Also prints HF's encode throughput for the bench table.
"""
import json
import os
import struct
import sys
import time

import tokenizers
from tokenizers import Tokenizer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIR = os.path.join(ROOT, "tests", "text", "data", "lfm2.5-vl-450m")


def fnv64(data: bytes) -> str:
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def ids_hash(ids):
    return fnv64(struct.pack(f"<{len(ids)}i", *ids))


def main():
    tok = Tokenizer.from_file(os.path.join(DIR, "tokenizer.json"))
    corpus = [json.loads(l) for l in open(os.path.join(DIR, "corpus.jsonl"), encoding="utf-8")]
    if len(sys.argv) == 3 and sys.argv[1] == "--show":
        s = corpus[int(sys.argv[2])]
        print(json.dumps(s), tok.encode(s).ids, tok.encode(s).tokens)
        return
    t0 = time.perf_counter()
    encs = tok.encode_batch(corpus, add_special_tokens=True)  # one thread per core, as HF users call it
    t1 = time.perf_counter()
    for s in corpus:
        tok.encode(s, add_special_tokens=False)
    t2 = time.perf_counter()
    nbytes = sum(len(s.encode("utf-8")) for s in corpus)
    with open(os.path.join(DIR, "golden.txt"), "w", encoding="utf-8") as f:
        for s, e in zip(corpus, encs):
            plain = tok.encode(s, add_special_tokens=False).ids
            ids = e.ids
            f.write(f"{len(ids)} {ids_hash(ids)} {len(plain)} {ids_hash(plain)} "
                    f"{fnv64(tok.decode(ids, skip_special_tokens=False).encode('utf-8'))} "
                    f"{fnv64(tok.decode(ids, skip_special_tokens=True).encode('utf-8'))}\n")
    print(f"tokenizers {tokenizers.__version__}: {len(corpus)} strings, {nbytes} bytes; "
          f"encode single-thread {nbytes / (t2 - t1) / 1e6:.2f} MB/s, encode_batch {nbytes / (t1 - t0) / 1e6:.2f} MB/s")


if __name__ == "__main__":
    main()
