#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// An agency system's Node.js client, written as docs/clients.md tells one to be: the stub comes
// from the provider's own proto/samples/citizen_registry.proto (loaded at run time by
// @grpc/proto-loader), pointed at the agency's own node, with the x-road-* metadata. Nothing of
// the bus's own contracts is loaded; google/rpc/status.proto only decodes grpc-status-details-bin.
//
//   node agency-client.js --mode get-citizen --target 127.0.0.1:PORT --client INSTANCE/CLASS/MEMBER/SUBSYSTEM
//        --service INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/VERSION] --citizen-id ID
//        [--user-id ID] [--ca CA.pem [--cert client.pem --key client.key]] [--timeout-ms 10000]
//   modes: get-citizen (unary), list-documents (server streaming, --citizen-id),
//          upload-documents (client streaming, --document-ids a,b,c),
//          converse (bidirectional, --citizen-id and --questions 'name?,born?': one question, then its answer)
//
// Without --ca the call is plaintext (a development node's local listener); with --ca it is TLS,
// and with --cert/--key the client authenticates with its certificate (the node's local TLS port).
// Prints exactly one JSON line on stdout: {mode, ok, xRoadId, ...the answer} or, for a failed
// call, {mode, ok:false, code, codeName, message, errorSource, errorInfoReason, ...} (see
// README.md). Exit codes as client.js: 0 the call ran (answered or not), 1 bad arguments,
// 2 harness error, 3 watchdog.
'use strict';

const protoLoader = require('@grpc/proto-loader');
const {
  grpc, loadStatusTypes, parseArgs, isGrpcError, errorFields, finish, PROTO_ROOT, LOADER_OPTIONS,
} = require('./common');

const OPTIONS = {
  mode: { env: 'AGENCY_MODE' },
  target: { env: 'AGENCY_TARGET' },
  client: { env: 'AGENCY_CLIENT' },
  service: { env: 'AGENCY_SERVICE' },
  'citizen-id': { env: 'AGENCY_CITIZEN_ID' },
  'user-id': { env: 'AGENCY_USER_ID' },
  'document-ids': { env: 'AGENCY_DOCUMENT_IDS' },
  questions: { env: 'AGENCY_QUESTIONS' },
  ca: { env: 'AGENCY_CA' },
  cert: { env: 'AGENCY_CERT' },
  key: { env: 'AGENCY_KEY' },
  'timeout-ms': { env: 'AGENCY_TIMEOUT_MS', default: '10000' },
  help: { flag: true },
};

// The metadata an agency system adds to every call (docs/clients.md), and what the node answers with.
const CLIENT_HEADER = 'x-road-client';
const SERVICE_HEADER = 'x-road-service';
const USER_ID_HEADER = 'x-road-userid';
const MESSAGE_ID_HEADER = 'x-road-id';
const ERROR_SOURCE_TRAILER = 'x-xbus-error-source';
// The sample registry's own response header on ListDocuments (not the bus's).
const DOCUMENT_COUNT_HEADER = 'x-document-count';

let options;
try {
  options = parseArgs(process.argv.slice(2), OPTIONS);
} catch (err) {
  process.stderr.write(`agency-client.js: ${err.message}\n`);
  process.exit(1);
}

// The provider's .proto, and nothing else, gives the stub.
const { CitizenRegistry } = grpc.loadPackageDefinition(
  protoLoader.loadSync('samples/citizen_registry.proto', LOADER_OPTIONS)).samples.citizen.v1;
const statusTypes = loadStatusTypes();

function busMetadata() {
  const metadata = new grpc.Metadata();
  metadata.set(CLIENT_HEADER, options.client);
  metadata.set(SERVICE_HEADER, options.service);
  if (options['user-id']) metadata.set(USER_ID_HEADER, options['user-id']);
  return metadata;
}

/** What a caller reads off a failed call: the status, its details, and who failed it. */
function failure(err, headers) {
  const trailers = err.metadata ? err.metadata : new grpc.Metadata();
  return {
    ...errorFields(statusTypes, err),
    // 'provider' when the provider's own backend sent the error; absent on the bus's refusals.
    errorSource: trailers.get(ERROR_SOURCE_TRAILER)[0] ?? null,
    xRoadId: headers.get(MESSAGE_ID_HEADER)[0] ?? null,
  };
}

/** A unary call: resolves with {reply} or {err}, and the response headers seen. */
function unary(invoke) {
  return new Promise((resolve) => {
    let headers = new grpc.Metadata();
    const call = invoke((err, reply) => resolve({ err, reply, headers }));
    call.on('metadata', (metadata) => { headers = metadata; });
  });
}

// One mode a method (and so a call kind); each resolves with the fields of its JSON line.
const modes = {
  'get-citizen': async (client, deadline) => {
    if (!options['citizen-id']) throw new UsageError('--citizen-id is required for get-citizen');
    const { err, reply, headers } = await unary((done) =>
      client.GetCitizen({ citizen_id: options['citizen-id'] }, busMetadata(), { deadline }, done));
    if (err) {
      if (!isGrpcError(err)) throw err;
      return failure(err, headers);
    }
    return { ok: true, citizen: reply, xRoadId: headers.get(MESSAGE_ID_HEADER)[0] ?? null };
  },
  // Server streaming: every document the node passes on, in order, then the stream's end status.
  'list-documents': async (client, deadline) => {
    if (!options['citizen-id']) throw new UsageError('--citizen-id is required for list-documents');
    const call = client.ListDocuments({ citizen_id: options['citizen-id'] }, busMetadata(), { deadline });
    const headers = headersOf(call);
    const documents = [];
    try {
      for await (const document of call) documents.push(document);
    } catch (err) {
      if (!isGrpcError(err)) throw err;
      return { ...failure(err, await headers), documents };
    }
    // The registry's own response header, which the bus carries signed beside x-road-id.
    const documentCount = (await headers).get(DOCUMENT_COUNT_HEADER)[0] ?? null;
    return { ok: true, documents, documentCount, xRoadId: (await headers).get(MESSAGE_ID_HEADER)[0] ?? null };
  },
  // Client streaming: the documents written one message each, then the half-close; one receipt back.
  'upload-documents': async (client, deadline) => {
    const ids = (options['document-ids'] || '').split(',').filter((id) => id);
    if (!ids.length) throw new UsageError('--document-ids is required for upload-documents');
    const { err, reply, headers } = await unary((done) => {
      const call = client.UploadDocuments(busMetadata(), { deadline }, done);
      for (const id of ids) call.write({ document_id: id, kind: 'uploaded by agency-client.js' });
      call.end();
      return call;
    });
    if (err) {
      if (!isGrpcError(err)) throw err;
      return failure(err, headers);
    }
    return { ok: true, receipt: reply, xRoadId: headers.get(MESSAGE_ID_HEADER)[0] ?? null };
  },
  // Bidirectional: each question is written only after the answer to the one before came back.
  converse: async (client, deadline) => {
    if (!options['citizen-id']) throw new UsageError('--citizen-id is required for converse');
    const questions = (options.questions || '').split(',').filter((q) => q);
    if (!questions.length) throw new UsageError('--questions is required for converse');
    const call = client.Converse(busMetadata(), { deadline });
    const headers = headersOf(call);
    const answers = [];
    const replies = call[Symbol.asyncIterator]();
    try {
      for (const text of questions) {
        call.write({ citizen_id: options['citizen-id'], text });
        const next = await replies.next();
        if (next.done) break;
        answers.push(next.value.text);
      }
      call.end();
      // The stream ends only once the provider's end record said OK.
      const last = await replies.next();
      if (!last.done) throw new Error('an answer nobody asked for');
    } catch (err) {
      if (!isGrpcError(err)) throw err;
      return { ...failure(err, await headers), answers };
    }
    return { ok: true, answers, xRoadId: (await headers).get(MESSAGE_ID_HEADER)[0] ?? null };
  },
};

/** The response headers of a streaming call (the node sends x-road-id in them), or none if the call failed first. */
function headersOf(call) {
  return new Promise((resolve) => {
    call.on('metadata', resolve);
    call.on('status', () => resolve(new grpc.Metadata()));
  });
}

class UsageError extends Error {}

function usage() {
  return 'usage: node agency-client.js --mode MODE --target HOST:PORT --client SUBSYSTEM --service SERVICE ' +
    `[--citizen-id ID] [--document-ids A,B] [--questions Q1,Q2] [--user-id ID] [--ca CA.pem [--cert client.pem --key client.key]] [--timeout-ms 10000]\nmodes: ${Object.keys(modes).join(', ')}\n`;
}

function credentials() {
  if (!options.ca) return grpc.credentials.createInsecure();
  const read = (name) => (options[name] ? require('fs').readFileSync(options[name]) : null);
  return grpc.credentials.createSsl(read('ca'), read('key'), read('cert'));
}

async function main() {
  if (options.help) { process.stderr.write(usage()); process.exit(0); }
  const mode = modes[options.mode];
  const timeoutMs = Number(options['timeout-ms']);
  const problems = [];
  if (!mode) problems.push(`unknown or missing --mode '${options.mode || ''}'`);
  for (const name of ['target', 'client', 'service']) if (!options[name]) problems.push(`--${name} is required`);
  if (!(timeoutMs > 1000)) problems.push(`bad --timeout-ms '${options['timeout-ms']}' (must be > 1000)`);
  if (problems.length) {
    process.stderr.write(`agency-client.js: ${problems.join('; ')}\n${usage()}`);
    process.exit(1);
  }

  const started = Date.now();
  const base = { mode: options.mode };
  const watchdog = setTimeout(() => {
    finish({ ...base, ok: false, harnessError: `call did not finish within ${timeoutMs} ms`, elapsedMs: Date.now() - started }, 3);
  }, timeoutMs);

  let client;
  try {
    client = new CitizenRegistry(options.target, credentials());
    const result = await mode(client, new Date(started + timeoutMs - 1000));
    clearTimeout(watchdog);
    client.close();
    finish({ ...base, ...result, elapsedMs: Date.now() - started }, 0);
  } catch (err) {
    clearTimeout(watchdog);
    if (client) client.close();
    if (err instanceof UsageError) {
      process.stderr.write(`agency-client.js: ${err.message}\n${usage()}`);
      process.exit(1);
    }
    finish({ ...base, ok: false, harnessError: err && err.stack ? err.stack.split('\n')[0] : String(err) }, 2);
  }
}

main();
