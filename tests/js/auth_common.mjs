// Shared plumbing for the authentication scripts (identity_js.mjs, amplify_auth.mjs,
// jwt_verify.mjs, sdk_auth.mjs): the one-JSON-argument / one-JSON-line contract, a
// fetch recorder that notes the X-Amz-Target of every request the libraries make, JWT
// decoding and a uniform description of errors.
//
// Contract of every script:
//   node <script>.mjs '<json>'
// prints exactly one JSON object on stdout as its LAST line (anything the libraries log
// goes to stderr), and exits 0 unless the script itself is broken. A failure of the flow
// under test is recorded in that object, never thrown; a bad argument or an unexpected
// crash is reported as {"error": {"name", "code", "message"}}.

import { format } from "node:util";

// Libraries log with console.log/info/debug/warn (Amplify's ConsoleLogger, for one):
// keep stdout for the one JSON line.
for (const level of ["log", "info", "debug", "warn"]) {
  console[level] = (...args) => process.stderr.write(`${format(...args)}\n`);
}

/** Parse argv[2] as a JSON object, or report a usage error and exit. */
export function readInput(script) {
  const raw = process.argv[2];
  let input;
  try {
    input = JSON.parse(raw ?? "");
  } catch (err) {
    emit({
      error: {
        name: "UsageError",
        code: "UsageError",
        message: `usage: node ${script} '<json object>' (${err.message})`,
      },
    });
    process.exit(0);
  }
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    emit({
      error: {
        name: "UsageError",
        code: "UsageError",
        message: "the argument must be a JSON object",
      },
    });
    process.exit(0);
  }
  return input;
}

/** A failed action's record, for failures the script itself detects. */
export function failure(name, message) {
  return { ok: false, error: { name, code: name, message } };
}

/** Check that input has every named field; throws a UsageError naming the missing ones. */
export function requireFields(input, names) {
  const missing = names.filter((name) => input[name] === undefined || input[name] === null);
  if (missing.length) {
    const err = new Error(`missing input field(s): ${missing.join(", ")}`);
    err.name = "UsageError";
    throw err;
  }
}

/** Print the one JSON line. */
export function emit(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

/** Run main(input) and print what it returns; a crash becomes {"error": ...}. */
export async function run(script, main) {
  const input = readInput(script);
  let output;
  try {
    output = await main(input);
  } catch (err) {
    output = { error: describeError(err) };
  }
  emit(output);
  // Amplify and the SDK may keep timers or sockets alive: do not wait for them.
  process.exit(0);
}

/**
 * A JSON-friendly description of any error the libraries throw: the AWS SDK v3
 * (name, $metadata, $fault), amazon-cognito-identity-js (name, code, statusCode),
 * Amplify (AuthError: name, message, underlyingError, metadata) and aws-jwt-verify.
 */
export function describeError(err) {
  if (err === null || err === undefined) {
    return { name: "Error", code: "Error", message: String(err) };
  }
  if (typeof err !== "object") {
    return { name: "Error", code: "Error", message: String(err) };
  }
  const className = err.constructor?.name;
  // aws-jwt-verify's errors keep name "Error": their class says what failed.
  const name = err.name && err.name !== "Error" ? err.name : className || err.name || "Error";
  const described = {
    name,
    code: err.code ?? name,
    message: err.message ?? String(err),
  };
  const status = err.$metadata?.httpStatusCode ?? err.metadata?.httpStatusCode ?? err.statusCode;
  if (status !== undefined) described.httpStatusCode = status;
  const requestId = err.$metadata?.requestId ?? err.metadata?.requestId;
  if (requestId !== undefined) described.requestId = requestId;
  if (err.$fault !== undefined) described.fault = err.$fault;
  if (err.recoverySuggestion !== undefined) described.recoverySuggestion = err.recoverySuggestion;
  if (err.underlyingError) {
    described.underlyingError = {
      name: err.underlyingError.name,
      message: err.underlyingError.message,
    };
  }
  if (className && className !== "Error" && className !== "Object" && className !== described.name) {
    described.class = className;
  }
  return described;
}

// --- JWTs ----------------------------------------------------------------------------

function base64UrlDecode(part) {
  return Buffer.from(part.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8");
}

/** Header and payload of a JWT, or null when the string is not a three-part JWT. */
export function decodeJwt(token) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    return {
      header: JSON.parse(base64UrlDecode(parts[0])),
      payload: JSON.parse(base64UrlDecode(parts[1])),
    };
  } catch {
    return null;
  }
}

/** A raw token with its decoded header and payload claims. */
export function describeToken(token) {
  const decoded = decodeJwt(token);
  return {
    token: token ?? null,
    header: decoded?.header ?? null,
    payload: decoded?.payload ?? null,
  };
}

/**
 * The same JWT with one payload claim changed and the original signature kept: a
 * verifier must reject it.
 */
export function tamperJwt(token, claim = "cognito:username", suffix = "-tampered") {
  const [header, payload, signature] = token.split(".");
  const claims = JSON.parse(base64UrlDecode(payload));
  claims[claim] = claim in claims ? `${claims[claim]}${suffix}` : suffix;
  const forged = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
  return `${header}.${forged}.${signature}`;
}

// --- request recorder ----------------------------------------------------------------

// Request members whose values are worth recording as they are; every other member is
// recorded by shape only (the keys of a map, "<string>" for a string), so that no
// password or token ends up in the output.
const PLAIN_MEMBERS = new Set(["AuthFlow", "ChallengeName", "ClientId"]);

function shapeOf(value) {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map(shapeOf);
  if (typeof value === "object") {
    const shape = {};
    for (const key of Object.keys(value).sort()) {
      const member = value[key];
      if (member === null) shape[key] = null;
      else shape[key] = typeof member === "object" ? "<object>" : `<${typeof member}>`;
    }
    return shape;
  }
  return `<${typeof value}>`;
}

function summariseBody(body) {
  if (typeof body !== "string") return null;
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== "object") return null;
  const summary = {};
  for (const key of Object.keys(parsed).sort()) {
    summary[key] = PLAIN_MEMBERS.has(key) ? parsed[key] : shapeOf(parsed[key]);
  }
  return summary;
}

function headerValue(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === "function") return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/**
 * Wrap globalThis.fetch so that every request the libraries make is recorded:
 * { target, method, url, request, status, errorType, responseKeys }.
 * target is the operation named by X-Amz-Target (null for plain GETs such as the JWKS);
 * request is the shape of the JSON body (AuthFlow, ChallengeName and ClientId verbatim,
 * maps as their keys, strings as "<string>"); errorType is the x-amzn-errortype header
 * or the body's __type.
 */
export function recordFetch() {
  const calls = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async function recordingFetch(input, init = {}) {
    const url = typeof input === "string" ? input : (input?.url ?? String(input));
    const headers = init.headers ?? (typeof input === "object" ? input.headers : undefined);
    const target = headerValue(headers, "x-amz-target");
    const call = {
      target: target ? target.split(".").pop() : null,
      method: (init.method ?? input?.method ?? "GET").toUpperCase(),
      url,
      request: summariseBody(init.body),
    };
    calls.push(call);
    let response;
    try {
      response = await realFetch(input, init);
    } catch (err) {
      call.networkError = describeError(err);
      throw err;
    }
    call.status = response.status;
    let body = null;
    try {
      body = await response.clone().json();
    } catch {
      body = null;
    }
    const errorType = response.headers.get("x-amzn-errortype") ?? body?.__type ?? null;
    if (response.status >= 300 || errorType) {
      call.errorType = errorType ? errorType.split(":")[0].split("#").pop() : null;
      call.errorMessage = body?.message ?? body?.Message ?? null;
    } else if (body && typeof body === "object" && !Array.isArray(body)) {
      call.responseKeys = Object.keys(body).sort();
      if (body.ChallengeName !== undefined) call.challengeName = body.ChallengeName;
      if (body.ChallengeParameters) {
        call.challengeParameterKeys = Object.keys(body.ChallengeParameters).sort();
      }
      if (body.AuthenticationResult) {
        call.authenticationResultKeys = Object.keys(body.AuthenticationResult).sort();
      }
    }
    return response;
  };
  return {
    calls,
    /** The calls made since the given mark (an index into calls). */
    since(mark) {
      return calls.slice(mark);
    },
    mark() {
      return calls.length;
    },
  };
}

/** The installed version of a package, read from its package.json. */
export async function packageVersion(name) {
  const { createRequire } = await import("node:module");
  const require = createRequire(import.meta.url);
  try {
    return require(`${name}/package.json`).version;
  } catch {
    // Packages whose "exports" hide package.json: find it next to the entry point.
    const { readFileSync } = await import("node:fs");
    const { dirname, join } = await import("node:path");
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 6; i += 1) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
        if (pkg.name === name) return pkg.version;
      } catch {
        // keep climbing
      }
      dir = dirname(dir);
    }
    return null;
  }
}

/** Normalise an actions list: "name" or {action: "name", ...params}. */
export function normaliseActions(actions) {
  if (!Array.isArray(actions)) {
    const err = new Error(
      '"actions" must be a list of action names or {"action": name, ...} objects',
    );
    err.name = "UsageError";
    throw err;
  }
  return actions.map((entry) => (typeof entry === "string" ? { action: entry } : { ...entry }));
}

// ------------------------------------------------------------------ amazon-cognito-identity-js

const ACTION_TIMEOUT_MS = 60_000;

/** The Storage interface amazon-cognito-identity-js expects (a localStorage subset). */
export class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  setItem(key, value) {
    this.items.set(key, String(value));
    return this.items.get(key);
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  removeItem(key) {
    return this.items.delete(key);
  }
  clear() {
    this.items.clear();
    return {};
  }
}

/** A promise that settles with the callback that fired, or a timeout. With `labelled`, a
 * timeout or a throw is reported with an `outcome` ("timeout", "failure") as well. */
export function settle(start, { labelled = true } = {}) {
  const label = (outcome, error) => (labelled ? { outcome, error } : { error });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      const { error } = failure("TimeoutError", `no callback within ${ACTION_TIMEOUT_MS} ms`);
      resolve(label("timeout", error));
    }, ACTION_TIMEOUT_MS);
    const done = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
    try {
      start(done);
    } catch (err) {
      done(label("failure", describeError(err)));
    }
  });
}
