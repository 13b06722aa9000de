#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// mTLS @grpc/grpc-js server for exchangebus.testing.v1.Interop (interop peer; test-only).
//
//   node server.js --port 0 --ca CA.pem --cert server.pem --key server.key [--host 127.0.0.1]
//                  [--verbose] [--ignore-stdin]
//
// Prints exactly one stdout line "LISTENING <port>" once bound, then serves until stdin reaches
// end-of-file/closes (unless --ignore-stdin), or SIGTERM/SIGINT arrives; then shuts down and
// exits 0. Everything else (diagnostics, errors) goes to stderr.
// Exit code 1: bad arguments, unreadable files or bind failure.
'use strict';

const {
  grpc, loadProtos, encodeStatusDetails, makePayload, parseArgs, readFileOption,
  STATUS_DETAILS_KEY, ECHO_METADATA_KEY, MiB,
} = require('./common');

const MAX_REPLY_SIZE = 64 * MiB;
const MAX_DELAY_MS = 120000;
const MAX_REPEAT = 100000;

const OPTIONS = {
  port: { env: 'INTEROP_PORT', default: '0' },
  host: { env: 'INTEROP_HOST', default: '127.0.0.1' },
  ca: { env: 'INTEROP_CA' },
  cert: { env: 'INTEROP_CERT' },
  key: { env: 'INTEROP_KEY' },
  verbose: { env: 'INTEROP_VERBOSE', flag: true, default: false },
  // For manual runs with stdin at /dev/null: stop only on SIGTERM/SIGINT.
  'ignore-stdin': { flag: true, default: false },
  help: { flag: true },
};

let options;
try {
  options = parseArgs(process.argv.slice(2), OPTIONS);
  if (options.help) {
    process.stderr.write('usage: node server.js --port 0 --ca CA.pem --cert server.pem --key server.key [--host 127.0.0.1] [--verbose] [--ignore-stdin]\n');
    process.exit(0);
  }
  if (!/^\d+$/.test(String(options.port)) || Number(options.port) > 65535) throw new Error(`bad --port '${options.port}'`);
} catch (err) {
  process.stderr.write(`server.js: ${err.message}\n`);
  process.exit(1);
}

const types = loadProtos();

function log(message) {
  if (options.verbose) process.stderr.write(`server.js: ${message}\n`);
}

/** Throws a gRPC INVALID_ARGUMENT error object if the request asks for something silly. */
function validate(request) {
  const problems = [];
  if (!(request.fail_with_code >= 0 && request.fail_with_code <= 16)) problems.push(`fail_with_code ${request.fail_with_code} not in 0..16`);
  if (!(request.delay_ms >= 0 && request.delay_ms <= MAX_DELAY_MS)) problems.push(`delay_ms ${request.delay_ms} not in 0..${MAX_DELAY_MS}`);
  if (!(request.reply_size >= 0 && request.reply_size <= MAX_REPLY_SIZE)) problems.push(`reply_size ${request.reply_size} not in 0..${MAX_REPLY_SIZE}`);
  if (!(request.repeat >= 0 && request.repeat <= MAX_REPEAT)) problems.push(`repeat ${request.repeat} not in 0..${MAX_REPEAT}`);
  if (problems.length) {
    const err = new Error(problems.join('; '));
    err.code = grpc.status.INVALID_ARGUMENT;
    err.details = err.message;
    throw err;
  }
}

/** The error for fail_with_code: status + message + grpc-status-details-bin trailer. */
function requestedFailure(code) {
  const message = 'requested failure';
  const metadata = new grpc.Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeStatusDetails(types, code, message, 'Test.RequestedFailure', 'exchangebus'));
  return { code, details: message, metadata };
}

function echoedMetadata(call) {
  const values = call.metadata.get(ECHO_METADATA_KEY);
  return values.length ? String(values[0]) : '';
}

function makeReply(text, payload, replySize, index, echoed) {
  return {
    text,
    payload: replySize > 0 ? makePayload(replySize) : payload,
    index,
    echoed_metadata: echoed,
  };
}

/** Waits ms; resolves true when done, false as soon as the call is cancelled (or deadline passes). */
function delay(call, ms) {
  return new Promise((resolve) => {
    if (call.cancelled) { resolve(false); return; }
    if (!(ms > 0)) { resolve(true); return; }
    const onCancel = () => { clearTimeout(timer); resolve(false); };
    const timer = setTimeout(() => { call.removeListener('cancelled', onCancel); resolve(true); }, ms);
    call.once('cancelled', onCancel);
  });
}

/** Writes with backpressure; resolves false if the call was cancelled meanwhile. */
function write(call, message) {
  return new Promise((resolve) => {
    if (call.cancelled) { resolve(false); return; }
    if (call.write(message)) { resolve(true); return; }
    const onDrain = () => { call.removeListener('cancelled', onCancel); resolve(true); };
    const onCancel = () => { call.removeListener('drain', onDrain); resolve(false); };
    call.once('drain', onDrain);
    call.once('cancelled', onCancel);
  });
}

function describe(request) {
  return `text=${JSON.stringify(request.text)} payload=${request.payload.length}B repeat=${request.repeat} ` +
    `fail=${request.fail_with_code} delay=${request.delay_ms} reply_size=${request.reply_size}`;
}

const handlers = {
  async Unary(call, callback) {
    const request = call.request;
    log(`Unary ${describe(request)}`);
    try { validate(request); } catch (err) { callback(err); return; }
    if (!await delay(call, request.delay_ms)) { log('Unary cancelled'); return; }
    if (request.fail_with_code !== 0) { callback(requestedFailure(request.fail_with_code)); return; }
    callback(null, makeReply(request.text, request.payload, request.reply_size, 0, echoedMetadata(call)));
  },

  // `repeat` replies (index 0..n-1, same text), then OK; with fail_with_code the failure comes
  // after those replies (repeat 0 + fail_with_code = an error with no message at all).
  async ServerStream(call) {
    const request = call.request;
    log(`ServerStream ${describe(request)}`);
    try { validate(request); } catch (err) { call.emit('error', err); return; }
    if (!await delay(call, request.delay_ms)) { log('ServerStream cancelled'); return; }
    const echoed = echoedMetadata(call);
    for (let i = 0; i < request.repeat; i++) {
      if (!await write(call, makeReply(request.text, request.payload, request.reply_size, i, echoed))) {
        log('ServerStream cancelled');
        return;
      }
    }
    if (request.fail_with_code !== 0) { call.emit('error', requestedFailure(request.fail_with_code)); return; }
    call.end();
  },

  // Reply after the client half-closes: text = all texts joined with ',', index = message count,
  // payload = all payloads concatenated (or reply_size bytes). fail_with_code / delay_ms /
  // reply_size: the last non-zero value among the messages applies, at the end.
  ClientStream(call, callback) {
    log('ClientStream started');
    const texts = [];
    const payloads = [];
    let failWithCode = 0;
    let delayMs = 0;
    let replySize = 0;
    let finished = false;
    call.on('data', (request) => {
      if (finished) return;
      log(`ClientStream message ${describe(request)}`);
      try { validate(request); } catch (err) { finished = true; callback(err); return; }
      texts.push(request.text);
      payloads.push(request.payload);
      if (request.fail_with_code !== 0) failWithCode = request.fail_with_code;
      if (request.delay_ms !== 0) delayMs = request.delay_ms;
      if (request.reply_size !== 0) replySize = request.reply_size;
    });
    call.on('error', (err) => log(`ClientStream error: ${err.message}`));
    call.on('end', async () => {
      if (finished) return;
      finished = true;
      if (!await delay(call, delayMs)) { log('ClientStream cancelled'); return; }
      if (failWithCode !== 0) { callback(requestedFailure(failWithCode)); return; }
      callback(null, makeReply(texts.join(','), Buffer.concat(payloads), replySize, texts.length, echoedMetadata(call)));
    });
  },

  // One reply per message, in order, as soon as it arrives (after its own delay_ms): same text,
  // running index from 0. A message with fail_with_code ends the call with that error at once.
  // The call ends OK when the client half-closes.
  Duplex(call) {
    log('Duplex started');
    const echoed = echoedMetadata(call);
    let index = 0;
    let done = false;
    let chain = Promise.resolve();
    const handle = async (request) => {
      if (done || call.cancelled) return;
      log(`Duplex message ${describe(request)}`);
      try { validate(request); } catch (err) { done = true; call.emit('error', err); return; }
      if (!await delay(call, request.delay_ms)) { done = true; log('Duplex cancelled'); return; }
      if (request.fail_with_code !== 0) { done = true; call.emit('error', requestedFailure(request.fail_with_code)); return; }
      if (!await write(call, makeReply(request.text, request.payload, request.reply_size, index++, echoed))) {
        done = true;
        log('Duplex cancelled');
      }
    };
    call.on('data', (request) => { chain = chain.then(() => handle(request)); });
    call.on('error', (err) => log(`Duplex error: ${err.message}`));
    call.on('end', () => {
      chain = chain.then(() => {
        if (!done && !call.cancelled) { done = true; call.end(); }
      });
    });
  },
};

let credentials;
try {
  credentials = grpc.ServerCredentials.createSsl(
    readFileOption(options, 'ca'),
    [{ cert_chain: readFileOption(options, 'cert'), private_key: readFileOption(options, 'key') }],
    true, // require and verify client certificates against --ca
  );
} catch (err) {
  process.stderr.write(`server.js: ${err.message}\n`);
  process.exit(1);
}

// Default options: max receive message size stays at grpc-js's 4 MiB default.
const server = new grpc.Server();
server.addService(types.Interop.service, handlers);

let shuttingDown = false;
function shutdown(reason) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`shutting down (${reason})`);
  const force = setTimeout(() => { server.forceShutdown(); process.exit(0); }, 2000);
  server.tryShutdown(() => { clearTimeout(force); process.exit(0); });
}

const address = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
server.bindAsync(address, credentials, (err, port) => {
  if (err) {
    process.stderr.write(`server.js: bind ${address} failed: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`LISTENING ${port}\n`);
  log(`listening on ${options.host}:${port}`);
});

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (!options['ignore-stdin']) {
  // The parent (the C# test) keeps our stdin open; its end means the parent is gone or done.
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}
