// Small synthetic tokenizer.json configurations that exercise each component lfm.cpp implements (Split
// behaviours and invert, Metaspace schemes, added-token flags, unk/fuse_unk/byte_fallback, subword
// prefix/suffix, normalizers, post-processors, decoders), with ids and decodes from the real Hugging Face
// tokenizers (@anush008/tokenizers 0.6.0 = tokenizers 0.22.2).
//
//   node tools/refs/make_tokenizer_synthetic_refs.mjs   (from the repo root)
//
// Output: tests/text/data/synthetic.expected.json = [{name, tokenizer, cases: [{text, ids, ...}]}].
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';

const require = createRequire(import.meta.url);
const hf = require('@anush008/tokenizers');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// GPT-2 byte-level alphabet.
function byteChars() {
  const out = [];
  let n = 0;
  for (let b = 0; b < 256; ++b) {
    const printable = (b >= 33 && b <= 126) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out.push(String.fromCodePoint(printable ? b : 256 + n++));
  }
  return out;
}

// A BPE model whose vocab holds `chars`, the tokens in `extra`, and merges building each of `words`
// left to right (w[0]+w[1], w[0..1]+w[2], ...). `prefix` marks non-initial symbols (continuing_subword_prefix).
function bpe({ chars, words = [], extra = [], options = {} }) {
  const vocab = {};
  const add = (t) => { if (!(t in vocab)) vocab[t] = Object.keys(vocab).length; };
  extra.forEach(add);
  chars.forEach(add);
  const prefix = options.continuing_subword_prefix || '';
  const suffix = options.end_of_word_suffix || '';
  if (prefix) chars.forEach((c) => add(prefix + c));
  if (suffix) chars.forEach((c) => { add(c + suffix); if (prefix) add(prefix + c + suffix); });
  const merges = [];
  for (const w of words) {
    const cs = Array.from(w);
    let left = cs[0];
    for (let i = 1; i < cs.length; ++i) {
      const last = i === cs.length - 1;
      const right = prefix + cs[i] + (last ? suffix : '');
      const merged = left + cs[i] + (last ? suffix : '');
      add(right); add(merged);
      if (!merges.some(([a, b]) => a === left && b === right)) merges.push([left, right]);
      left = merged;
    }
  }
  return {
    type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: false, ...options, vocab, merges,
  };
}

const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
const added = (id, content, flags = {}) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...flags,
});
const base = (over) => ({
  version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null,
  post_processor: null, decoder: null, ...over,
});

const configs = [];
const splitTexts = ['a-b--c d  e-', '--x', 'hello-world - foo', '', '-', 'abc', ' - - ', 'a--b---c'];
for (const behavior of ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
  for (const invert of [false, true]) {
    for (const pattern of [{ String: '-' }, { Regex: '\\s+|-+' }]) {
      configs.push({
        name: `split_${behavior}_${invert ? 'invert' : 'plain'}_${Object.keys(pattern)[0]}`,
        tokenizer: base({
          pre_tokenizer: { type: 'Split', pattern, behavior, invert },
          model: bpe({ chars: ascii, words: ['hello', 'world', '--', 'a-', '-b', ' -', 'foo', 'abc'] }),
          decoder: behavior === 'Isolated' ? null : { type: 'Fuse' },
        }),
        texts: splitTexts,
      });
    }
  }
}

const metaTexts = ['hello world', ' hello', 'hello  world ', '', '<s>hello world', 'hi<s> there', 'a b c'];
for (const scheme of ['always', 'first', 'never']) {
  for (const split of [true, false]) {
    configs.push({
      name: `metaspace_${scheme}_${split ? 'split' : 'nosplit'}`,
      tokenizer: base({
        added_tokens: [added(0, '<s>')],
        pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split },
        model: bpe({ chars: [...ascii, '▁'], extra: ['<s>'], words: ['▁hello', '▁world', 'hello', '▁▁', '▁a', '▁hi', 'there'] }),
        decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split },
      }),
      texts: metaTexts,
    });
  }
}

const bl = byteChars();
configs.push({
  name: 'added_token_flags',
  tokenizer: base({
    added_tokens: [
      added(1000, '<mask>', { lstrip: true, special: true }),
      added(1001, '<eos>', { rstrip: true, special: true }),
      added(1002, 'MASK', { single_word: true, special: false, normalized: false }),
      added(1003, 'yes', { special: false, normalized: true }),
      added(1004, '<both>', { lstrip: true, rstrip: true, special: true }),
      added(1005, '<eos><eos>', { special: true }),
    ],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: bpe({ chars: bl, words: ['Ġhello', 'Ġthere', 'ĠĠ', 'hello', 'word'] }),
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  }),
  texts: ['a <mask> b', 'x<mask>y', 'hello<eos>  there', 'wordMASKword', 'MASK word', 'a MASK, b', 'MASK',
    'YES yes Yes', 'x  <both>  y', '<eos><eos><eos>', '  <mask>', 'ÉMASK', '1MASK', 'MASK1', 'é MASK é',
    '<mask><mask>', 'hello <eos>\n\n there'],
});

configs.push({
  name: 'unk_fused_and_byte_fallback',
  tokenizer: base({
    pre_tokenizer: { type: 'WhitespaceSplit' },
    model: bpe({ chars: ascii.slice(1), extra: ['<unk>', '<0xC3>', '<0xA9>', '<0xE2>'], words: ['hello'],
      options: { unk_token: '<unk>', fuse_unk: true, byte_fallback: true } }),
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] },
  }),
  texts: ['héllo ☃☃ x', 'ééé', '你好 hello', '☃é☃', 'plain'],
});
configs.push({
  name: 'unk_not_fused',
  tokenizer: base({
    pre_tokenizer: { type: 'Whitespace' },
    model: bpe({ chars: ascii.slice(1), extra: ['[UNK]'], words: ['hello'], options: { unk_token: '[UNK]' } }),
  }),
  texts: ['héllo ☃☃ x', '你好 hello!', 'a,b;c', 'don\'t stop'],
});
configs.push({
  name: 'subword_prefix_suffix',
  tokenizer: base({
    pre_tokenizer: { type: 'WhitespaceSplit' },
    model: bpe({ chars: 'abcdefghijklmnopqrstuvwxyz'.split(''), words: ['ab', 'abc', 'cab', 'ba'], extra: ['<unk>'],
      options: { continuing_subword_prefix: '##', end_of_word_suffix: '</w>', unk_token: '<unk>' } }),
  }),
  texts: ['ab abc cab', 'a b c', 'abcabc', 'baba', 'x!y'],
});
configs.push({
  name: 'normalizers_and_llama2_decoder',
  tokenizer: base({
    added_tokens: [added(0, '<s>'), added(1, 'Hi', { special: false, normalized: true })],
    normalizer: { type: 'Sequence', normalizers: [
      { type: 'Strip', strip_left: true, strip_right: true },
      { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
      { type: 'Prepend', prepend: '▁' },
      { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    model: bpe({ chars: [...ascii, '▁'], extra: ['<s>', 'Hi', '<unk>', ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)],
      words: ['▁hello', '▁world', '▁hi', '▁▁'], options: { unk_token: '<unk>', byte_fallback: true } }),
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' },
      { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
  }),
  texts: ['hello world', '  hello   world  ', '<s>hello', 'hi Hi', 'é☃ x', '', 'Hi<s>Hi'],
});
for (const [name, pp] of [
  ['roberta', { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: true }],
  ['bert', { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 0] }],
  ['template_bos_eos', { type: 'Sequence', processors: [
    { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } }] }],
]) {
  configs.push({
    name: `processor_${name}`,
    tokenizer: base({
      added_tokens: [added(0, '<s>'), added(2, '</s>')],
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: bpe({ chars: bl, extra: ['<s>', '<pad>', '</s>'], words: ['Ġhello', 'Ġworld'] }),
      post_processor: pp,
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    }),
    texts: ['hello world', '', '<s>x</s>', ' hello'],
  });
}
configs.push({
  name: 'pretokenizers_misc',
  tokenizer: base({
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Punctuation', behavior: 'Isolated' },
      { type: 'Digits', individual_digits: false },
      { type: 'Split', pattern: { Regex: '\\d' }, behavior: 'Isolated', invert: false },
      { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }] },
    model: bpe({ chars: [...ascii, '▁', 'é', '¿', '。'], words: ['▁12', '12', 'hello', '▁hello', '..'], extra: ['<unk>'],
      options: { unk_token: '<unk>' } }),
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  }),
  texts: ['hello, world! 123.45', '¿qué? 12,3', 'a...b', '(x) [y] {z}', '中文。'],
});
configs.push({
  name: 'digits_individual_whitespace',
  tokenizer: base({
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Whitespace' }, { type: 'Digits', individual_digits: true }] },
    model: bpe({ chars: ascii, words: ['12', 'ab'] }),
  }),
  texts: ['ab12 34ab', '1 2 3', "it's 2024!"],
});
configs.push({
  name: 'bytelevel_prefix_space_ignore_merges',
  tokenizer: base({
    added_tokens: [added(500, '<|x|>')],
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { ...bpe({ chars: bl, words: ['Ġhello', 'Ġhe'], extra: ['Ġhel'] }), ignore_merges: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  }),
  texts: ['hello', 'hel hello', '<|x|>hel', 'a<|x|>b', "I'm 12345 here\n\n"],
});

const out = [];
for (const c of configs) {
  const json = JSON.stringify(c.tokenizer);
  let tok;
  try { tok = hf.Tokenizer.fromString(json); } catch (e) { throw new Error(`${c.name}: HF refused the config: ${e}`); }
  const cases = [];
  for (const text of c.texts) {
    const ids = Array.from((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
    const idsSpecial = Array.from((await tok.encode(text, null, { addSpecialTokens: true })).getIds());
    cases.push({ text, ids, ids_with_special: idsSpecial, decoded: await tok.decode(ids, false),
      decoded_skip_special: await tok.decode(idsSpecial, true) });
  }
  out.push({ name: c.name, tokenizer: c.tokenizer, cases });
}
fs.writeFileSync(path.join(root, 'tests/text/data/synthetic.expected.json'),
  JSON.stringify({ reference: '@anush008/tokenizers 0.6.0 (Hugging Face tokenizers 0.22.2, Rust)', configs: out }) + '\n');
console.log(`${out.length} configs, ${out.reduce((n, c) => n + c.cases.length, 0)} cases written`);
