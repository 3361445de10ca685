// An OpenAI-compatible chat-completions server on 127.0.0.1 in front of llama.cpp, for the
// real-model tests (tests/real_model.py) and bench/bench_real_model.py.
//
// The engine is node-llama-cpp (llama.cpp's prebuilt CPU binaries from the npm registry); this file
// is only the HTTP layer llama.cpp's own `llama-server` would provide, which has no prebuilt
// binary in any registry we can reach. What it does, as llama-server does:
//   POST /v1/chat/completions  messages, max_tokens, temperature, seed, response_format
//        (json_object: any JSON object; json_schema: decoding constrained to the schema, via
//        llama.cpp's GBNF grammar sampler). A schema it cannot compile is a 400 naming
//        response_format. stream=true is a 400.
//   GET  /v1/models, GET /health
//   --parallel N slots; a request waits for a free slot. A client that disconnects (a timeout)
//   aborts its generation and frees the slot.
// And, for tests only:
//   GET  /stats   every request served: timings, tokens, finish_reason, the format (and schema
//                 name) asked for, the user message and the reply text.
//
// Usage: node server.mjs --model FILE.gguf [--port 0] [--parallel 2] [--ctx 4096]
//        [--threads 1] [--name smollm2] [--exit-with-stdin 1]
// One thread by default: llama.cpp's threads spin-wait on each other, and on 2 shared cores that
// are busy with anything else two threads ran 5-7x slower than one (measured: 120 tokens in 2.3 s
// with one thread, 12-16 s with two, under load). Two slots batch in one context instead.
// Prints one line `listening http://127.0.0.1:PORT` on stdout when ready.

import http from "node:http";
import {getLlama, LlamaChat} from "node-llama-cpp";

function parseArgs(argv) {
    const out = {model: null, port: 0, parallel: 2, ctx: 4096, threads: 1, name: "smollm2", host: "127.0.0.1",
        "exit-with-stdin": 0};
    for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i].replace(/^--/, "");
        if (!(key in out)) throw new Error(`unknown option --${key}`);
        out[key] = typeof out[key] === "number" ? Number(argv[i + 1]) : argv[i + 1];
    }
    if (!out.model) throw new Error("--model FILE.gguf is required");
    return out;
}

const args = parseArgs(process.argv.slice(2));
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath: args.model});
const context = await model.createContext({
    contextSize: args.ctx * args.parallel, sequences: args.parallel, threads: args.threads,
});
const free = [];
for (let i = 0; i < args.parallel; i++) free.push(context.getSequence());
const waiting = [];
const records = [];
const grammars = new Map();
let jsonGrammar = null;

function acquire() {
    if (free.length) return Promise.resolve(free.pop());
    return new Promise((resolve) => waiting.push(resolve));
}

function release(sequence) {
    const next = waiting.shift();
    if (next) next(sequence);
    else free.push(sequence);
}

class BadRequest extends Error {}

// JSON Schema (as OpenAI's json_schema response_format sends it) -> node-llama-cpp's schema subset.
// anyOf is treated as oneOf (for a grammar both are a union); annotations are dropped; any other
// keyword is refused rather than silently ignored.
const ANNOTATIONS = new Set(["title", "description", "default", "examples", "$schema", "$comment"]);
const KEYWORDS = new Set(["type", "properties", "required", "additionalProperties", "items", "prefixItems",
    "enum", "const", "oneOf", "anyOf", "minItems", "maxItems", "minLength", "maxLength", "format",
    "minProperties", "maxProperties", "$defs", "$ref"]);

function convertSchema(schema, where = "schema") {
    if (schema === true || schema === undefined) return {};
    if (typeof schema !== "object" || schema === null || Array.isArray(schema))
        throw new BadRequest(`response_format json_schema: ${where} is not a schema object`);
    const out = {};
    for (const [key, value] of Object.entries(schema)) {
        if (ANNOTATIONS.has(key)) continue;
        if (!KEYWORDS.has(key)) throw new BadRequest(`response_format json_schema: unsupported keyword ${key} at ${where}`);
        if (key === "properties" || key === "$defs") {
            out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convertSchema(v, `${where}.${key}.${k}`)]));
        } else if (key === "items" || (key === "additionalProperties" && typeof value === "object")) {
            out[key] = convertSchema(value, `${where}.${key}`);
        } else if (key === "anyOf" || key === "oneOf" || key === "prefixItems") {
            out[key === "anyOf" ? "oneOf" : key] = value.map((v, i) => convertSchema(v, `${where}.${key}[${i}]`));
        } else {
            out[key] = value;
        }
    }
    // node-llama-cpp wants a bare enum/const (the type is implied by the values)
    if ("enum" in out || "const" in out) delete out.type;
    return out;
}

async function grammarFor(format) {
    if (!format || format.type === "text") return null;
    if (format.type === "json_object") {
        jsonGrammar ??= await llama.getGrammarFor("json");
        return jsonGrammar;
    }
    if (format.type === "json_schema") {
        const schema = format.json_schema?.schema;
        if (!schema) throw new BadRequest("response_format json_schema: json_schema.schema is missing");
        const key = JSON.stringify(schema);
        if (!grammars.has(key)) {
            const converted = convertSchema(schema);
            try {
                grammars.set(key, await llama.createGrammarForJsonSchema(converted));
            } catch (e) {
                throw new BadRequest(`response_format json_schema: cannot compile the schema (${e.message})`);
            }
        }
        return grammars.get(key);
    }
    throw new BadRequest(`response_format: unsupported type ${JSON.stringify(format.type)}`);
}

function history(messages) {
    if (!Array.isArray(messages) || messages.length === 0) throw new BadRequest("messages: expected a non-empty list");
    const items = [];
    for (const m of messages) {
        const text = typeof m.content === "string" ? m.content
            : Array.isArray(m.content) ? m.content.map((p) => p.text ?? "").join("") : "";
        if (m.role === "system" || m.role === "developer") items.push({type: "system", text});
        else if (m.role === "user") items.push({type: "user", text});
        else if (m.role === "assistant") items.push({type: "model", response: [text]});
        else throw new BadRequest(`messages: unsupported role ${JSON.stringify(m.role)}`);
    }
    if (items.at(-1).type !== "user") throw new BadRequest("messages: the last message must be the user's");
    return items;
}

async function complete(body, signal) {
    if (body.stream) throw new BadRequest("stream: not supported by this test server");
    const chatHistory = history(body.messages);
    const grammar = await grammarFor(body.response_format);
    const maxTokens = Number.isInteger(body.max_tokens) ? body.max_tokens
        : Number.isInteger(body.max_completion_tokens) ? body.max_completion_tokens : 512;
    const record = {
        received: Date.now(), format: body.response_format?.type ?? "none", max_tokens: maxTokens,
        schema_name: body.response_format?.json_schema?.name ?? null,
        user: chatHistory.filter((h) => h.type === "user").map((h) => h.text).join("\n"),
    };
    records.push(record);
    const sequence = await acquire();
    const started = Date.now();
    record.queued_ms = started - record.received;
    if (signal.aborted) {  // the client gave up while waiting for a slot: never start it
        release(sequence);
        return Object.assign(record, {aborted: true, ms: 0, prompt_tokens: 0, completion_tokens: 0});
    }
    const before = sequence.tokenMeter.getState();
    const chat = new LlamaChat({contextSequence: sequence});
    try {
        const result = await chat.generateResponse(chatHistory, {
            maxTokens, grammar: grammar ?? undefined, signal, stopOnAbortSignal: true,
            temperature: typeof body.temperature === "number" ? body.temperature : 0.8,
            seed: Number.isInteger(body.seed) ? body.seed : 0,
        });
        const after = sequence.tokenMeter.getState();
        const aborted = result.metadata.stopReason === "abort";
        Object.assign(record, {
            ms: Date.now() - started, content: result.response, aborted,
            finish_reason: result.metadata.stopReason === "maxTokens" ? "length" : "stop",
            prompt_tokens: after.usedInputTokens - before.usedInputTokens,
            completion_tokens: after.usedOutputTokens - before.usedOutputTokens,
        });
        return record;
    } finally {
        chat.dispose({disposeSequence: false});
        await sequence.clearHistory();
        release(sequence);
    }
}

function send(res, status, payload) {
    const body = JSON.stringify(payload);
    res.writeHead(status, {"content-type": "application/json", "content-length": Buffer.byteLength(body)});
    res.end(body);
}

let served = 0;
const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://localhost");
    const path = url.pathname.replace(/^\/v1/, "");
    if (req.method === "GET" && path === "/health") return send(res, 200, {status: "ok"});
    if (req.method === "GET" && path === "/stats") return send(res, 200, {requests: records});
    if (req.method === "GET" && path === "/models")
        return send(res, 200, {object: "list", data: [{id: args.name, object: "model", owned_by: "local"}]});
    if (req.method !== "POST" || path !== "/chat/completions")
        return send(res, 404, {error: {message: `no route ${req.method} ${url.pathname}`, type: "not_found"}});
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
        const abort = new AbortController();
        res.on("close", () => { if (!res.writableEnded) abort.abort(); });
        try {
            let body;
            try {
                body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch (e) {
                throw new BadRequest(`request body is not JSON (${e.message})`);
            }
            const r = await complete(body, abort.signal);
            if (r.aborted) return;  // the client is gone
            served += 1;
            send(res, 200, {
                id: `chatcmpl-${served}`, object: "chat.completion", created: Math.floor(Date.now() / 1000),
                model: body.model ?? args.name,
                choices: [{index: 0, finish_reason: r.finish_reason, message: {role: "assistant", content: r.content}}],
                usage: {prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens,
                    total_tokens: r.prompt_tokens + r.completion_tokens},
            });
        } catch (e) {
            if (e instanceof BadRequest) send(res, 400, {error: {message: e.message, type: "invalid_request_error"}});
            else {
                process.stderr.write(`server error: ${e.stack ?? e}\n`);
                send(res, 500, {error: {message: String(e.message ?? e), type: "server_error"}});
            }
        }
    });
});

server.listen(args.port, args.host, () => {
    process.stdout.write(`listening http://${args.host}:${server.address().port}\n`);
});
// --exit-with-stdin: the parent holds our stdin open; when it dies, so do we (no orphaned engine)
if (args["exit-with-stdin"]) {
    process.stdin.on("end", () => process.exit(0));
    process.stdin.resume();
}
for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, async () => {
        server.close();
        await context.dispose();
        await model.dispose();
        process.exit(0);
    });
}
