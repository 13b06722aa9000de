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
const PROTO_FILES = [
  'testing/interop.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
];
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
  const root = protoLoaderUtil.loadProtosWithOptionsSync(PROTO_FILES, LOADER_OPTIONS);
  return {
    packageDefinition,
    Interop: loaded.exchangebus.testing.v1.Interop,
    Status: root.lookupType('google.rpc.Status'),
    ErrorInfo: root.lookupType('google.rpc.ErrorInfo'),
  };
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
