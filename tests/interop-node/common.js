// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the @grpc/grpc-js interop peer (server.js, client.js).
// Test-only; never shipped.
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
// proto-loader's own loader (the one behind loadSync) returns the protobufjs Root, whose
// types can encode/decode google.rpc.Status and ErrorInfo. Versions are pinned exactly in
// package.json, so this internal path is stable for us; it keeps protobufjs an indirect
// dependency only.
const protoLoaderUtil = require('@grpc/proto-loader/build/src/util');

const PROTO_ROOT = process.env.INTEROP_PROTO_ROOT || path.resolve(__dirname, '..', '..', 'proto');
// google.rpc.Status and ErrorInfo: what any gRPC client reads grpc-status-details-bin with.
const STATUS_PROTO_FILES = ['google/rpc/status.proto', 'google/rpc/error_details.proto'];
const PROTO_FILES = ['testing/interop.proto', ...STATUS_PROTO_FILES];
const LOADER_OPTIONS = {
  keepCase: true, // fields as in the .proto: fail_with_code, reply_size, echoed_metadata
  longs: String,
  enums: String,
  defaults: true, // absent fields read as 0 / '' / empty Buffer
  oneofs: true,
  // google/protobuf/any.proto is not under PROTO_ROOT: protobufjs supplies it (well-known type).
  includeDirs: [PROTO_ROOT],
};

const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';
const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const ECHO_METADATA_KEY = 'x-test-echo';
const MiB = 1024 * 1024;

function loadProtos() {
  const packageDefinition = protoLoader.loadSync(PROTO_FILES, LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(packageDefinition);
  return { packageDefinition, Interop: loaded.exchangebus.testing.v1.Interop, ...loadStatusTypes() };
}

/** The protobufjs types google.rpc.Status and google.rpc.ErrorInfo, for decodeStatusDetails. */
function loadStatusTypes() {
  const root = protoLoaderUtil.loadProtosWithOptionsSync(STATUS_PROTO_FILES, LOADER_OPTIONS);
  return { Status: root.lookupType('google.rpc.Status'), ErrorInfo: root.lookupType('google.rpc.ErrorInfo') };
}

const STATUS_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([name, code]) => [code, name]));

function isGrpcError(err) {
  return err && typeof err.code === 'number' && typeof err.details === 'string';
}

/** JSON fields for a failed RPC, including the decoded grpc-status-details-bin trailer if any. */
function errorFields(types, err) {
  const out = {
    ok: false,
    code: err.code,
    codeName: STATUS_NAMES[err.code] || 'UNKNOWN_CODE',
    message: err.details,
    details: err.details,
  };
  const values = err.metadata ? err.metadata.get(STATUS_DETAILS_KEY) : [];
  out.statusDetailsPresent = values.length > 0;
  out.statusDetailsDecoded = false;
  if (values.length > 0) {
    try {
      const status = decodeStatusDetails(types, Buffer.from(values[0]));
      out.statusDetailsDecoded = true;
      out.status = status;
      out.statusDetailsConsistent = status.code === err.code && status.message === err.details;
      const info = status.details.find((d) => d.errorInfo);
      if (info) {
        out.errorInfoReason = info.errorInfo.reason;
        out.errorInfoDomain = info.errorInfo.domain;
      }
    } catch (decodeError) {
      out.statusDetailsError = decodeError.message;
    }
  }
  return out;
}

/** Writes the one JSON line and exits once it is flushed. */
function finish(result, exitCode) {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(exitCode));
}

/** Serialized google.rpc.Status {code, message, details:[Any(ErrorInfo)]}. */
function encodeStatusDetails(types, code, message, reason, domain) {
  const errorInfo = types.ErrorInfo.encode(types.ErrorInfo.create({ reason, domain })).finish();
  const status = types.Status.create({
    code,
    message,
    details: [{ type_url: ERROR_INFO_TYPE_URL, value: errorInfo }],
  });
  return Buffer.from(types.Status.encode(status).finish());
}

/** Decodes a google.rpc.Status buffer into a plain object; ErrorInfo details are unpacked. */
function decodeStatusDetails(types, buffer) {
  const status = types.Status.decode(buffer);
  const details = (status.details || []).map((any) => {
    const entry = { typeUrl: any.type_url, valueLength: any.value ? any.value.length : 0 };
    if (any.type_url === ERROR_INFO_TYPE_URL) {
      const info = types.ErrorInfo.decode(any.value);
      entry.errorInfo = { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } };
    }
    return entry;
  });
  return { code: status.code, message: status.message, details };
}

/** Deterministic reply payload: byte i = i mod 256. */
function makePayload(size) {
  const buffer = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buffer[i] = i & 0xff;
  return buffer;
}

/**
 * Minimal "--name value" / "--flag" parser. `spec` maps option name to
 * { env, default, flag }. Unknown options throw.
 */
function parseArgs(argv, spec) {
  const out = {};
  for (const [name, s] of Object.entries(spec)) {
    if (s.env && process.env[s.env] !== undefined && process.env[s.env] !== '') out[name] = process.env[s.env];
    else if (s.default !== undefined) out[name] = s.default;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    let name = arg.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) { value = name.slice(eq + 1); name = name.slice(0, eq); }
    const s = spec[name];
    if (!s) throw new Error(`unknown option --${name}`);
    if (s.flag) { out[name] = value === undefined ? true : value !== 'false'; continue; }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new Error(`option --${name} needs a value`);
      value = argv[++i];
    }
    out[name] = value;
  }
  return out;
}

function readFileOption(options, name) {
  if (!options[name]) throw new Error(`--${name} is required`);
  return fs.readFileSync(options[name]);
}

module.exports = {
  grpc,
  loadProtos,
  loadStatusTypes,
  isGrpcError,
  errorFields,
  finish,
  PROTO_ROOT,
  LOADER_OPTIONS,
  encodeStatusDetails,
  decodeStatusDetails,
  makePayload,
  parseArgs,
  readFileOption,
  ERROR_INFO_TYPE_URL,
  STATUS_DETAILS_KEY,
  ECHO_METADATA_KEY,
  MiB,
};
