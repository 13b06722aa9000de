#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// mTLS @grpc/grpc-js client for exchangebus.testing.v1.Interop (interop peer; test-only).
//
//   node client.js --scenario NAME --target 127.0.0.1:PORT --ca CA.pem --cert client.pem
//                  --key client.key [--server-name localhost] [--timeout-ms 10000]
//
// Runs one scenario and prints exactly one JSON line on stdout describing the outcome.
// Exit 0: the scenario ran (whether the RPC succeeded or failed). Exit 1: bad arguments.
// Exit 2: harness error (unreadable files, unexpected exception). Exit 3: the scenario did not
// finish within --timeout-ms (a JSON line with "harnessError" is still printed).
'use strict';

const {
  grpc, loadProtos, parseArgs, readFileOption, isGrpcError, finish, errorFields: commonErrorFields,
  ECHO_METADATA_KEY, MiB,
} = require('./common');

const OPTIONS = {
  scenario: { env: 'INTEROP_SCENARIO' },
  target: { env: 'INTEROP_TARGET' },
  ca: { env: 'INTEROP_CA' },
  cert: { env: 'INTEROP_CERT' },
  key: { env: 'INTEROP_KEY' },
  'server-name': { env: 'INTEROP_SERVER_NAME' },
  'timeout-ms': { env: 'INTEROP_TIMEOUT_MS', default: '10000' },
  help: { flag: true },
};

const ECHO_VALUE = 'abc';
const UNARY_PAYLOAD = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]);
const OVERSIZE = 5 * MiB;

// grpc-js passes the IP address of an IP target as the TLS ServerName, which makes Node print a
// DEP0123 deprecation warning on every run; drop that one warning and print all others.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.code !== 'DEP0123') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

let options;
try {
  options = parseArgs(process.argv.slice(2), OPTIONS);
} catch (err) {
  process.stderr.write(`client.js: ${err.message}\n`);
  process.exit(1);
}

const types = loadProtos();

// ---- helpers -------------------------------------------------------------------------------

/** JSON fields for a failed RPC, including the decoded grpc-status-details-bin trailer if any. */
function errorFields(err) {
  return commonErrorFields(types, err);
}

function replyFields(reply) {
  const out = {
    text: reply.text,
    index: reply.index,
    echoedMetadata: reply.echoed_metadata,
    payloadLength: reply.payload.length,
  };
  if (reply.payload.length <= 64) out.payloadHex = reply.payload.toString('hex');
  return out;
}

function echoMetadata() {
  const metadata = new grpc.Metadata();
  metadata.set(ECHO_METADATA_KEY, ECHO_VALUE);
  return metadata;
}

function unaryCall(client, request, callOptions) {
  return new Promise((resolve, reject) => {
    client.Unary(request, echoMetadata(), callOptions, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

/**
 * Settles when a streaming call is over: rejects with the gRPC error on a non-OK status, resolves
 * once both the OK status and the end of the reply stream (every message delivered) were seen.
 */
function callOutcome(call) {
  return new Promise((resolve, reject) => {
    let statusOk = false;
    let ended = false;
    call.on('error', reject);
    call.on('status', (status) => { if (status.code === grpc.status.OK) { statusOk = true; if (ended) resolve(); } });
    call.on('end', () => { ended = true; if (statusOk) resolve(); });
  });
}

/** Runs fn; a gRPC failure becomes {ok:false,...} merged with extra(); other errors propagate. */
async function capture(fn, extra = () => ({})) {
  try {
    return await fn();
  } catch (err) {
    if (!isGrpcError(err)) throw err;
    return { ...errorFields(err), ...extra() };
  }
}

// ---- scenarios -----------------------------------------------------------------------------

const scenarios = {
  // Unary, text "hello", metadata x-test-echo=abc, payload 00017f80feff.
  unary: (client, callOptions) => capture(async () => {
    const reply = await unaryCall(client, { text: 'hello', payload: UNARY_PAYLOAD }, callOptions());
    return { ok: true, ...replyFields(reply) };
  }),

  // ServerStream, repeat 5: expects indexes [0..4], all texts "stream".
  'server-stream': (client, callOptions) => {
    const replies = [];
    const summary = () => ({
      count: replies.length,
      indexes: replies.map((r) => r.index),
      texts: replies.map((r) => r.text),
      echoedMetadata: replies.length ? replies[0].echoed_metadata : null,
    });
    return capture(async () => {
      const call = client.ServerStream({ text: 'stream', repeat: 5 }, echoMetadata(), callOptions());
      call.on('data', (reply) => replies.push(reply));
      await callOutcome(call);
      return { ok: true, ...summary() };
    }, summary);
  },

  // ClientStream, texts a,b,c: expects text "a,b,c", index 3.
  'client-stream': (client, callOptions) => capture(() => new Promise((resolve, reject) => {
    const call = client.ClientStream(echoMetadata(), callOptions(), (err, reply) => (err ? reject(err) : resolve({ ok: true, ...replyFields(reply) })));
    for (const text of ['a', 'b', 'c']) call.write({ text });
    call.end();
  })),

  // Duplex ping-pong: each message is sent only after the reply to the previous one arrived, so a
  // peer that buffers replies until half-close makes this time out (code 4).
  duplex: (client, callOptions) => {
    const replies = [];
    const sent = [];
    const summary = () => ({
      count: replies.length,
      sent,
      indexes: replies.map((r) => r.index),
      texts: replies.map((r) => r.text),
      replies: replies.map((r) => ({ text: r.text, index: r.index })),
      echoedMetadata: replies.length ? replies[0].echoed_metadata : null,
    });
    return capture(async () => {
      const call = client.Duplex(echoMetadata(), callOptions());
      let wake = null;
      call.on('data', (reply) => { replies.push(reply); if (wake) wake(); });
      const ended = callOutcome(call);
      ended.catch(() => {}); // observed below
      for (const text of ['ping-0', 'ping-1', 'ping-2']) {
        call.write({ text });
        sent.push(text);
        while (replies.length < sent.length) {
          // Wait for the next reply, or for the call to end/fail first.
          await Promise.race([new Promise((resolve) => { wake = resolve; }), ended]);
          wake = null;
          if (replies.length < sent.length) {
            await ended; // ended without the reply: throws if it failed
            return { ok: false, ...summary(), problem: 'stream ended before every reply arrived' };
          }
        }
      }
      call.end();
      await ended;
      return { ok: true, ...summary() };
    }, summary);
  },

  // Unary with fail_with_code 7: expects code 7, message "requested failure", and a decodable
  // google.rpc.Status with ErrorInfo reason "Test.RequestedFailure", domain "exchangebus".
  error: (client, callOptions) => capture(async () => {
    const reply = await unaryCall(client, { text: 'fail', fail_with_code: grpc.status.PERMISSION_DENIED }, callOptions());
    return { ok: true, ...replyFields(reply) };
  }),

  // Unary with delay_ms 2000 and a 200 ms deadline: expects code 4 after ~200 ms.
  deadline: (client, callOptions) => {
    const started = Date.now();
    const elapsed = () => ({ elapsedMs: Date.now() - started, deadlineMs: 200 });
    return capture(async () => {
      const reply = await unaryCall(client, { text: 'slow', delay_ms: 2000 }, { deadline: new Date(started + 200) });
      return { ok: true, ...replyFields(reply), ...elapsed() };
    }, elapsed);
  },

  // Unary carrying a 5 MiB payload: the peer's default 4 MiB receive limit gives code 8.
  oversized: (client, callOptions) => capture(async () => {
    const reply = await unaryCall(client, { text: 'big', payload: Buffer.alloc(OVERSIZE, 0x5a) }, callOptions());
    return { ok: true, ...replyFields(reply), requestBytes: OVERSIZE };
  }, () => ({ requestBytes: OVERSIZE })),

  // Unary asking for a 5 MiB reply: this client's default 4 MiB receive limit gives code 8.
  'oversized-reply': (client, callOptions) => capture(async () => {
    const reply = await unaryCall(client, { text: 'big-reply', reply_size: OVERSIZE }, callOptions());
    return { ok: true, ...replyFields(reply), replySizeRequested: OVERSIZE };
  }, () => ({ replySizeRequested: OVERSIZE })),
};

// ---- main ----------------------------------------------------------------------------------

function usage() {
  return 'usage: node client.js --scenario NAME --target HOST:PORT --ca CA.pem --cert client.pem --key client.key ' +
    `[--server-name NAME] [--timeout-ms 10000]\nscenarios: ${Object.keys(scenarios).join(', ')}\n`;
}

async function main() {
  if (options.help) { process.stderr.write(usage()); process.exit(0); }
  const name = options.scenario;
  const scenario = scenarios[name];
  const timeoutMs = Number(options['timeout-ms']);
  const problems = [];
  if (!scenario) problems.push(`unknown or missing --scenario '${name || ''}'`);
  if (!options.target) problems.push('--target is required');
  if (!(timeoutMs > 1000)) problems.push(`bad --timeout-ms '${options['timeout-ms']}' (must be > 1000)`);
  if (problems.length) {
    process.stderr.write(`client.js: ${problems.join('; ')}\n${usage()}`);
    process.exit(1);
  }

  const started = Date.now();
  const base = { scenario: name };
  const watchdog = setTimeout(() => {
    finish({ ...base, ok: false, harnessError: `scenario did not finish within ${timeoutMs} ms`, elapsedMs: Date.now() - started }, 3);
  }, timeoutMs);

  let client;
  try {
    const credentials = grpc.credentials.createSsl(
      readFileOption(options, 'ca'), readFileOption(options, 'key'), readFileOption(options, 'cert'));
    const channelOptions = {};
    if (options['server-name']) {
      channelOptions['grpc.ssl_target_name_override'] = options['server-name'];
      channelOptions['grpc.default_authority'] = options['server-name'];
    }
    // Default channel options otherwise: 4 MiB receive limit, no send limit.
    client = new types.Interop(options.target, credentials, channelOptions);
    // Every call gets a gRPC deadline inside the watchdog, so calls end on their own first.
    const callOptions = () => ({ deadline: new Date(started + timeoutMs - 1000) });
    const result = await scenario(client, callOptions);
    clearTimeout(watchdog);
    client.close();
    finish({ ...base, ...result, elapsedMs: result.elapsedMs ?? Date.now() - started }, 0);
  } catch (err) {
    clearTimeout(watchdog);
    if (client) client.close();
    finish({ ...base, ok: false, harnessError: err && err.stack ? err.stack.split('\n')[0] : String(err) }, 2);
  }
}

main();
