// The npm `openai` client (tools/refs/package.json) against a running `lfm serve` (LFM_SERVE_URL),
// started by openai_python_test.py: plain and streamed chat agree under one seed, usage, a JSON
// Schema answer, and a 400 that names the field.
// ESM ignores NODE_PATH: the package is loaded from LFM_NODE_MODULES (tools/refs/node_modules).
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
const require = createRequire(process.env.LFM_NODE_MODULES + "/");
const { default: OpenAI } = await import(pathToFileURL(require.resolve("openai")).href);

const client = new OpenAI({ baseURL: process.env.LFM_SERVE_URL + "/v1", apiKey: "unused", maxRetries: 0 });
const messages = [{ role: "user", content: "Say something." }];
let failed = false;
function check(cond, what) {
  if (!cond) {
    console.log("node FAIL: " + what);
    failed = true;
  }
}

const plain = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 16, seed: 9, temperature: 1 });
check(plain.object === "chat.completion", "object");
check(plain.usage.completion_tokens > 0 && plain.usage.prompt_tokens > 0, "usage " + JSON.stringify(plain.usage));

const stream = await client.chat.completions.create({
  model: "tiny", messages, max_tokens: 16, seed: 9, temperature: 1, stream: true, stream_options: { include_usage: true },
});
let text = "", usage = null, finish = null;
for await (const chunk of stream) {
  if (chunk.usage) usage = chunk.usage;
  if (chunk.choices.length && chunk.choices[0].delta.content) text += chunk.choices[0].delta.content;
  if (chunk.choices.length && chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
}
check(text === plain.choices[0].message.content, "stream " + JSON.stringify(text) + " != " + JSON.stringify(plain.choices[0].message.content));
check(finish === plain.choices[0].finish_reason, "finish_reason");
check(usage && usage.completion_tokens === plain.usage.completion_tokens, "stream usage");

const schema = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"], additionalProperties: false };
const js = await client.chat.completions.create({
  model: "tiny", messages, max_tokens: 100, seed: 1,
  response_format: { type: "json_schema", json_schema: { name: "a", schema, strict: true } },
});
const value = JSON.parse(js.choices[0].message.content);
check(typeof value.ok === "boolean" && Object.keys(value).length === 1, "schema answer " + js.choices[0].message.content);

try {
  await client.chat.completions.create({ model: "tiny", messages, n: 2 });
  check(false, "n = 2 accepted");
} catch (e) {
  check(e.status === 400 && e.error && e.error.param === "/n", "400 for n: " + e);
}
console.log(failed ? "node: FAILED" : "node: all passed");
process.exit(failed ? 1 : 0);
