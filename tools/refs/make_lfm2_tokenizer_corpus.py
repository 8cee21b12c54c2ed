#!/usr/bin/env python3
"""Writes the tokenizer parity corpus for the real LFM2.5-VL tokenizer (>= 20,000 strings).

    python3 tools/refs/make_lfm2_tokenizer_corpus.py   (from the repo root; stdlib only)

Output: tests/text/data/lfm2.5-vl-450m/corpus.jsonl, one JSON string per line. The corpus is
committed; this script documents how it was made (seeded, so a rerun on the same inputs gives the
same file). Expected ids come from HF tokenizers via make_lfm2_tokenizer_goldens.py.

Sources, chosen to hit every path of a byte-level BPE with a Unicode-class pre-tokenizer regex:
prose (the Debian licence texts and this repo's README), code (this repo's C++ and Python files),
JSON (the JSON-Schema-Test-Suite files in ../shared/testdata), numbers, whitespace runs, CJK,
Arabic, Devanagari, Cyrillic, Thai, emoji and ZWJ sequences, combining marks, noncharacters and
private-use code points, and every special/added token string of the tokenizer embedded in text.
"""
import glob
import json
import os
import random

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TESTDATA = os.environ.get("LFM_TESTDATA_DIR", os.path.join(ROOT, "..", "shared", "testdata"))
OUT_DIR = os.path.join(ROOT, "tests", "text", "data", "lfm2.5-vl-450m")
rng = random.Random(20261203)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def slices(text, count, min_len=1, max_len=240):
    """`count` random substrings of text (by code point), lengths spread over [min_len, max_len]."""
    out = []
    if len(text) <= min_len:
        return out
    for _ in range(count):
        n = rng.randint(min_len, min(max_len, len(text) - 1))
        start = rng.randint(0, len(text) - n)
        out.append(text[start:start + n])
    return out


def lines_of(text):
    return [l for l in text.splitlines() if l.strip()]


SCRIPTS = {
    "cjk": "我们的模型在中央处理器上运行得很快。東京は日本の首都です。한국어 문장도 토큰화합니다。漢字かなカナ交じり文。",
    "arabic": "مرحبا بالعالم، هذا نص عربي للاختبار. النموذج يعمل على وحدة المعالجة المركزية.",
    "devanagari": "नमस्ते दुनिया। यह हिंदी में एक परीक्षण वाक्य है। क्षत्रिय द्वार श्री",
    "cyrillic": "Привет, мир! Это тестовое предложение на русском языке. Ёжик в тумане.",
    "thai": "สวัสดีชาวโลก นี่คือประโยคทดสอบภาษาไทย",
    "greek": "Γειά σου Κόσμε! Αυτή είναι μια δοκιμαστική πρόταση.",
    "hebrew": "שלום עולם! זהו משפט בדיקה בעברית.",
}
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🧑🏿‍💻", "❤️", "🇫🇷", "🇯🇵", "👩‍❤️‍💋‍👨", "🤷‍♀️", "🦀", "🐍", "✨", "🫶🏻", "1️⃣", "©️", "™"]
ODD = ["\ufeff", "\ufffd", "\ufffe", "\uffff", "\U0010fffd", "\ue000", "\u200b", "\u200d", "\u2028", "\u2029",
       "\u00a0", "\u3000", "\u0301", "e\u0301", "\u1e9b\u0323", "Å", "\u212b", "ﬁ", "\u0000", "\u0007", "\x7f",
       "\u0085", "\u180e", "\U0001d400", "\U0001f600\ufe0f", "\U000e0041", "Ǆ", "ǅ", "İ", "ß", "ẞ", "ς"]
WS = [" ", "  ", "\t", "\n", "\r\n", "\n\n", "   \n", " \t ", "\r", "\x0b", "\x0c", "        "]
WORDS = ("the of and to in is it you that he was for on are with as I his they be at one have this from or had "
         "by hot word but what some we can out other were all there when up use your how said an each she which do "
         "their time if will way about many then them write would like so these her long make thing see him two has "
         "look more day could go come did number sound no most people my over know water than call first who may "
         "down side been now find any new work part take get place made live where after back little only round man "
         "year came show every good me give our under name very through just form sentence great think say help low "
         "line differ turn cause much mean before move right boy old too same tell does set three want air well also "
         "play small end put home read hand port large spell add even land here must big high such follow act why "
         "ask men change went light kind off need house picture try us again animal point mother world near build "
         "self earth father head stand own page should country found answer school grow study still learn plant "
         "cover food sun four between state keep eye never last let thought city tree cross farm hard start might "
         "story saw far sea draw left late run don't while press close night real life few north open seem together "
         "next white children begin got walk example ease paper group always music those both mark often letter "
         "until mile river car feet care second book carry took science eat room friend began idea fish mountain "
         "stop once base hear horse cut sure watch color face wood main enough plain girl usual young ready above "
         "ever red list though feel talk bird soon body dog family direct pose leave song measure door product "
         "black short numeral class wind question happen complete ship area half rock order fire south problem "
         "piece told knew pass since top whole king space heard best hour better true during hundred five remember "
         "step early hold west ground interest reach fast verb sing listen six table travel less morning ten "
         "simple several vowel toward war lay against pattern slow center love person money serve appear road map "
         "rain rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark machine note "
         "wait plan figure star box noun field rest correct able pound done beauty drive stood contain front teach "
         "week final gave green oh quick develop ocean warm free minute strong special mind behind clear tail "
         "produce fact street inch multiply nothing course stay wheel full force blue object decide surface deep "
         "moon island foot system busy test record boat common gold possible plane stead dry wonder laugh thousand "
         "ago ran check game shape equate hot miss brought heat snow tire bring yes distant fill east paint "
         "language among").split()


def random_unicode(n):
    """Code points from many blocks, including unassigned ones and noncharacters (never surrogates)."""
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            cp = rng.randint(0x20, 0x7e)
        elif r < 0.5:
            cp = rng.randint(0xa0, 0x2fff)
        elif r < 0.7:
            cp = rng.randint(0x3000, 0xd7ff)
        elif r < 0.85:
            cp = rng.randint(0xe000, 0xffff)
        else:
            cp = rng.randint(0x10000, 0x10ffff)
        out.append(chr(cp))
    return "".join(out)


def number_string():
    kind = rng.randrange(8)
    if kind == 0:
        return str(rng.randint(0, 10 ** rng.randint(1, 30)))
    if kind == 1:
        return f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 9)}f}"
    if kind == 2:
        return f"{rng.uniform(-1, 1):e}"
    if kind == 3:
        return " ".join(str(rng.randint(0, 9999)) for _ in range(rng.randint(2, 12)))
    if kind == 4:
        return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1900, 2100)} {rng.randint(0, 23)}:{rng.randint(0, 59):02d}"
    if kind == 5:
        return "v" + ".".join(str(rng.randint(0, 99)) for _ in range(3))
    if kind == 6:
        return "0x" + "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(rng.randint(1, 40)))
    return "".join(rng.choice("0123456789٠١٢٣٤٥٦٧٨٩०१२३४५६७८९一二三１２３½²³") for _ in range(rng.randint(1, 20)))


def words(n):
    ws = []
    for _ in range(n):
        w = rng.choice(WORDS)
        r = rng.random()
        if r < 0.1:
            w = w.capitalize()
        elif r < 0.13:
            w = w.upper()
        elif r < 0.2:
            w += rng.choice(["'s", "'t", "'re", "'ve", "'M", "'LL", "'d", ",", ".", "!", "?", ";", ":"])
        ws.append(w)
    return " ".join(ws)


def mix(parts, seps=None):
    seps = seps or [" ", "", "\n", "  "]
    return "".join(p + rng.choice(seps) for p in parts)


def main():
    tok = json.load(open(os.path.join(OUT_DIR, "tokenizer.json"), encoding="utf-8"))
    added = [t["content"] for t in tok["added_tokens"]]
    corpus = []

    # Prose.
    prose = [read(p) for p in sorted(glob.glob("/usr/share/common-licenses/*")) if os.path.isfile(p)]
    prose.append(read(os.path.join(ROOT, "README.md")))
    prose_text = "\n".join(prose)
    corpus += slices(prose_text, 3000)
    corpus += rng.sample(lines_of(prose_text), min(1500, len(lines_of(prose_text))))
    corpus += [words(rng.randint(1, 60)) for _ in range(2000)]

    # Code.
    code_files = sorted(glob.glob(os.path.join(ROOT, "src", "**", "*.cpp"), recursive=True))
    code_files += sorted(glob.glob(os.path.join(ROOT, "tools", "refs", "*.py")))
    code_text = "\n".join(read(p) for p in code_files)
    corpus += slices(code_text, 2500, 1, 400)

    # JSON.
    json_files = sorted(glob.glob(os.path.join(TESTDATA, "json-schema-test-suite", "draft2020-12", "*.json")))
    json_text = "\n".join(read(p) for p in json_files)
    corpus += slices(json_text, 1500, 1, 400)
    for p in json_files[:200]:
        for group in json.load(open(p, encoding="utf-8")):
            corpus.append(json.dumps(group["schema"], ensure_ascii=False))
            for t in group["tests"][:3]:
                corpus.append(json.dumps(t["data"], ensure_ascii=rng.random() < 0.5,
                                         indent=rng.choice([None, 2, 4])))

    # Numbers, whitespace runs.
    corpus += [number_string() for _ in range(1500)]
    corpus += ["".join(rng.choice(WS) for _ in range(rng.randint(1, 12))) for _ in range(400)]
    corpus += [mix([words(rng.randint(1, 5)), "".join(rng.choice(WS) for _ in range(rng.randint(1, 6)))] * 3)
               for _ in range(600)]

    # Scripts, emoji, odd code points.
    for name, text in SCRIPTS.items():
        corpus += slices(text, 250, 1, 80)
        corpus += [mix([rng.choice(SCRIPTS[name][:40].split() or [text]), words(2), number_string()])
                   for _ in range(100)]
    corpus += [mix([rng.choice(EMOJI) for _ in range(rng.randint(1, 8))] + [words(rng.randint(0, 4))], ["", " "])
               for _ in range(800)]
    corpus += [mix([rng.choice(ODD), words(rng.randint(0, 3)), rng.choice(ODD)], ["", " ", "\n"]) for _ in range(800)]
    corpus += [random_unicode(rng.randint(1, 60)) for _ in range(1500)]

    # Every added/special token string embedded in text, alone, glued, doubled and split-adjacent.
    for s in added:
        corpus += [s, " " + s, s + " ", "x" + s + "y", s + s, words(3) + s + words(3), s + "\n" + words(2),
                   s[:-1], s[1:], "<" + s + ">"]
    corpus += [mix([rng.choice(added), words(rng.randint(0, 4)), rng.choice(EMOJI + ODD)], ["", " ", "\n"])
               for _ in range(1000)]

    # Every White_Space code point and the near misses regex engines disagree on (U+180E was a space
    # before Unicode 6.3; U+001C..U+001F are Python isspace() but not \\s), in each regex context.
    spaces = [0x9, 0xa, 0xb, 0xc, 0xd, 0x20, 0x85, 0xa0, 0x1680] + list(range(0x2000, 0x200b)) + \
        [0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0x1c, 0x1d, 0x1e, 0x1f, 0x180e, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff]
    for cp in spaces:
        c = chr(cp)
        corpus += ["x  " + c + "y", " " + c, c, c + c, c + "\n", "a " + c + " b", "1" + c + "2", "!" + c + "?",
                   c * 3 + "word", "word" + c * 2, "  " + c, c + "  ", "\n" + c + "\n"]

    # Dedupe (keeping order); empty string once.
    seen, out = set(), [""]
    for s in corpus:
        if s not in seen:
            seen.add(s)
            out.append(s)
    with open(os.path.join(OUT_DIR, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for s in out:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    print(f"wrote {len(out)} strings ({sum(len(s.encode()) for s in out)} bytes)")


if __name__ == "__main__":
    main()
