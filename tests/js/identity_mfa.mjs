// MFA and remembered devices with amazon-cognito-identity-js, as a Node application would
// drive them.
//
//   node identity_mfa.mjs '<json>'
//
// Input: {"endpoint", "poolId", "clientId", "username", "password", "actions": [...],
//         "totpSecret"?, "totpLastStep"?}
// Same contract as identity_js.mjs: an action is a name or {"action": name, ...parameters};
// the actions run in order and each appends a record {"action", "ok", ..., "calls",
// "storedDevice"} to "results" (calls: the requests it made, see auth_common.mjs;
// storedDevice: the device the library keeps in its storage for the current user). A
// failing action is recorded and the next one still runs.
//
// All the CognitoUser objects share ONE in-memory storage, as the CognitoUser objects of a
// browser tab share localStorage: a new object finds the device the library remembered.
//
//   authenticate                authenticateUser (SRP). {password?, newUser?} ->
//                               {outcome, tokens...} or {outcome: "totpRequired" |
//                               "mfaRequired" | "mfaSetup" | "selectMFAType",
//                               challengeName, challengeParameters}. newUser: true first
//                               replaces the current CognitoUser by a new one (same
//                               username, same storage).
//   send_mfa_code               sendMFACode(code, callbacks, mfaType?) -> as authenticate.
//   associate_software_token    associateSoftwareToken (with the session's access token,
//                               or during sign-in the challenge's Session) -> {secretCode};
//                               the secret is kept for the TOTP codes of later actions.
//   verify_software_token       verifySoftwareToken(code, friendlyName) -> {result} when
//                               signed in, or the session of the completed MFA_SETUP.
//   set_mfa_preference          setUserMfaPreference(sms ?? null, totp ?? null).
//   get_user_data               getUserData (GetUser, never the cached copy) ->
//                               {userMfaSettingList, preferredMfaSetting, attributes}.
//   set_device_status_remembered / set_device_status_not_remembered
//   list_devices                listDevices(limit ?? 10, null) -> {devices, paginationToken}
//   get_device                  getDevice -> {device}
//   forget_device               forgetDevice (the current device) -> {result}
//
// The code of send_mfa_code and verify_software_token is given by
//   {"code": "123456"}          that code;
//   {"codeFrom": "totp"}        a TOTP code (RFC 6238: HMAC-SHA1, 6 digits, 30 s) of the
//                               secret for a time step not used before by this run (or
//                               before totpLastStep): the current step, else the next one,
//                               else the script waits for the next step;
//   {"codeFrom": "wrongTotp"}   a six-digit code that is no TOTP code of the secret near now;
//   {"codeFrom": "prompt"}      a code the caller gives: the script prints one line
//                               {"prompt": {"action", "index", "label"}} on stdout and reads
//                               the code from the next line of stdin.
// Every TOTP code used is listed in "totpCodes" ({step, code}) for the caller to check.
//
// Output (last line): {"library", "version", "results": [...], "calls": [...],
// "storageKeys": [...], "totpCodes": [...]}, or {"error": {...}} for a bad argument.

import { createHmac } from "node:crypto";
import { createInterface } from "node:readline";

import { AuthenticationDetails, CognitoUser, CognitoUserPool } from "amazon-cognito-identity-js";

import {
  describeError,
  describeToken,
  emit,
  failure,
  MemoryStorage,
  normaliseActions,
  packageVersion,
  recordFetch,
  requireFields,
  run,
  settle,
} from "./auth_common.mjs";

const TOTP_STEP_MS = 30_000;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// --- TOTP (RFC 6238 over RFC 4226) --------------------------------------------------------

function base32Decode(text) {
  const clean = text.replace(/=+$/, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const bytes = [];
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(text)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The six-digit TOTP code of a base32 secret for a 30-second time step. */
function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const binary = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}

function currentStep() {
  return Math.floor(Date.now() / TOTP_STEP_MS);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- the library's callbacks ----------------------------------------------------------------

function describeSession(session) {
  if (!session) return { session: null };
  return {
    idToken: describeToken(session.getIdToken().getJwtToken()),
    accessToken: describeToken(session.getAccessToken().getJwtToken()),
    refreshToken: session.getRefreshToken().getToken() ?? null,
    isValid: session.isValid(),
  };
}

/** The callbacks object authenticateUser and sendMFACode take. */
function authCallbacks(done) {
  const challenge = (outcome) => (challengeName, challengeParameters) =>
    done({ outcome, challengeName, challengeParameters: challengeParameters ?? null });
  return {
    onSuccess: (session, userConfirmationNecessary) =>
      done({
        outcome: "success",
        session,
        userConfirmationNecessary: userConfirmationNecessary ?? null,
      }),
    onFailure: (err) => done({ outcome: "failure", error: describeError(err) }),
    newPasswordRequired: (userAttributes, requiredAttributes) =>
      done({ outcome: "newPasswordRequired", userAttributes, requiredAttributes }),
    mfaRequired: challenge("mfaRequired"),
    totpRequired: challenge("totpRequired"),
    mfaSetup: challenge("mfaSetup"),
    selectMFAType: challenge("selectMFAType"),
    customChallenge: (challengeParameters) =>
      done({ outcome: "customChallenge", challengeParameters }),
  };
}

function authenticationRecord(result) {
  const record = { ok: result.outcome === "success", outcome: result.outcome };
  if (result.outcome === "success") {
    Object.assign(record, describeSession(result.session));
    record.userConfirmationNecessary = result.userConfirmationNecessary;
  } else if (result.error) {
    record.error = result.error;
  } else {
    record.challengeName = result.challengeName ?? null;
    record.challengeParameters = result.challengeParameters ?? null;
  }
  return record;
}

/** A node-style callback (err, value) for settle. */
const nodeCallback = (done) => (err, value) =>
  done(err ? { error: describeError(err) } : { value });

/** A {onSuccess, onFailure} callbacks object for settle. */
const resultCallbacks = (done) => ({
  onSuccess: (value) => done({ value }),
  onFailure: (err) => done({ error: describeError(err) }),
});

function attributeMap(list) {
  return Object.fromEntries((list ?? []).map((a) => [a.Name, a.Value]));
}

function describeDevice(device) {
  if (!device) return null;
  return {
    deviceKey: device.DeviceKey,
    attributes: attributeMap(device.DeviceAttributes),
    hasCreateDate: device.DeviceCreateDate !== undefined,
    hasLastAuthenticatedDate: device.DeviceLastAuthenticatedDate !== undefined,
  };
}

// --- the run ------------------------------------------------------------------------------

async function main(input) {
  requireFields(input, ["endpoint", "poolId", "clientId", "username", "actions"]);
  const actions = normaliseActions(input.actions);
  const recorder = recordFetch();
  const storage = new MemoryStorage();
  const pool = new CognitoUserPool({
    UserPoolId: input.poolId,
    ClientId: input.clientId,
    endpoint: input.endpoint,
    Storage: storage,
  });
  const newUser = () => new CognitoUser({ Username: input.username, Pool: pool, Storage: storage });
  let user = newUser();

  const totp = { secret: input.totpSecret ?? null, lastStep: input.totpLastStep ?? 0 };
  const totpCodes = [];
  let stdinLines = null;

  /** The device the library keeps in storage for the current user (null when none). */
  function storedDevice() {
    const prefix = `CognitoIdentityServiceProvider.${input.clientId}.${user.getUsername()}`;
    const key = storage.getItem(`${prefix}.deviceKey`);
    if (key === null) return null;
    return {
      deviceKey: key,
      deviceGroupKey: storage.getItem(`${prefix}.deviceGroupKey`),
      hasRandomPassword: Boolean(storage.getItem(`${prefix}.randomPasswordKey`)),
    };
  }

  function requireSecret() {
    if (!totp.secret) {
      const err = new Error("no TOTP secret: associate a software token or give totpSecret");
      err.name = "UsageError";
      throw err;
    }
    return totp.secret;
  }

  async function freshTotp() {
    const secret = requireSecret();
    // The server accepts the steps around its own (each once, in increasing order): use the
    // current step or the next one, never one already used.
    for (;;) {
      const now = currentStep();
      const step = Math.max(now, totp.lastStep + 1);
      if (step <= now + 1) {
        totp.lastStep = step;
        const code = totpAt(secret, step);
        totpCodes.push({ step, code });
        return code;
      }
      await sleep((now + 1) * TOTP_STEP_MS - Date.now() + 50);
    }
  }

  function wrongTotp() {
    const secret = requireSecret();
    const now = currentStep();
    const near = new Set();
    for (let step = now - 3; step <= now + 3; step += 1) near.add(totpAt(secret, step));
    for (let step = now + 1000; ; step += 1) {
      const code = totpAt(secret, step);
      if (!near.has(code)) return code;
    }
  }

  async function prompted(action, index, label) {
    emit({ prompt: { action, index, label: label ?? null } });
    if (stdinLines === null) {
      stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
    }
    const line = await stdinLines.next();
    if (line.done) {
      const err = new Error("stdin closed before the prompted code was given");
      err.name = "UsageError";
      throw err;
    }
    return line.value.trim();
  }

  async function codeOf(params, action, index) {
    if (params.code !== undefined) return String(params.code);
    switch (params.codeFrom) {
      case "totp":
        return freshTotp();
      case "wrongTotp":
        return wrongTotp();
      case "prompt":
        return prompted(action, index, params.label);
      default: {
        const err = new Error('give "code" or "codeFrom": "totp" | "wrongTotp" | "prompt"');
        err.name = "UsageError";
        throw err;
      }
    }
  }

  const handlers = {
    async authenticate(params) {
      if (params.newUser) user = newUser();
      const details = new AuthenticationDetails({
        Username: input.username,
        Password: params.password ?? input.password,
      });
      const result = await settle((done) => user.authenticateUser(details, authCallbacks(done)));
      return authenticationRecord(result);
    },

    async send_mfa_code(params, index) {
      const code = await codeOf(params, "send_mfa_code", index);
      const result = await settle((done) =>
        user.sendMFACode(code, authCallbacks(done), params.mfaType),
      );
      return authenticationRecord(result);
    },

    async associate_software_token() {
      const result = await settle((done) =>
        user.associateSoftwareToken({
          associateSecretCode: (secretCode) => done({ secretCode }),
          onFailure: (err) => done({ error: describeError(err) }),
        }),
      );
      if (result.error) return { ok: false, error: result.error };
      totp.secret = result.secretCode;
      return { ok: true, secretCode: result.secretCode };
    },

    async verify_software_token(params, index) {
      const code = await codeOf(params, "verify_software_token", index);
      const result = await settle((done) =>
        user.verifySoftwareToken(code, params.friendlyName, resultCallbacks(done)),
      );
      if (result.error) return { ok: false, error: result.error };
      const value = result.value;
      // Signed in: VerifySoftwareToken's answer. During sign-in: the session MFA_SETUP gave.
      if (value && typeof value.getIdToken === "function") {
        return { ok: true, outcome: "success", ...describeSession(value) };
      }
      return { ok: true, result: value };
    },

    async set_mfa_preference(params) {
      const result = await settle((done) =>
        user.setUserMfaPreference(params.sms ?? null, params.totp ?? null, nodeCallback(done)),
      );
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, result: result.value };
    },

    async get_user_data() {
      // Without the cached copy (and without bypassCache, which also refreshes the
      // session): exactly one GetUser.
      user.clearCachedUserData();
      const result = await settle((done) => user.getUserData(nodeCallback(done)));
      if (result.error) return { ok: false, error: result.error };
      const data = result.value;
      return {
        ok: true,
        username: data.Username,
        userMfaSettingList: data.UserMFASettingList ?? null,
        preferredMfaSetting: data.PreferredMfaSetting ?? null,
        attributes: attributeMap(data.UserAttributes),
      };
    },

    async set_device_status_remembered() {
      const result = await settle((done) => user.setDeviceStatusRemembered(resultCallbacks(done)));
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, result: result.value };
    },

    async set_device_status_not_remembered() {
      const result = await settle((done) =>
        user.setDeviceStatusNotRemembered(resultCallbacks(done)),
      );
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, result: result.value };
    },

    async list_devices(params) {
      const result = await settle((done) =>
        user.listDevices(params.limit ?? 10, null, resultCallbacks(done)),
      );
      if (result.error) return { ok: false, error: result.error };
      return {
        ok: true,
        devices: (result.value.Devices ?? []).map(describeDevice),
        paginationToken: result.value.PaginationToken ?? null,
      };
    },

    async get_device() {
      const result = await settle((done) => user.getDevice(resultCallbacks(done)));
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, device: describeDevice(result.value.Device) };
    },

    async forget_device() {
      const result = await settle((done) => user.forgetDevice(resultCallbacks(done)));
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, result: result.value };
    },
  };

  const results = [];
  for (const [index, { action, ...params }] of actions.entries()) {
    const mark = recorder.mark();
    const handler = Object.hasOwn(handlers, action) ? handlers[action] : null;
    let record;
    if (!handler) {
      record = failure("UsageError", `unknown action ${JSON.stringify(action)}`);
    } else {
      try {
        record = await handler(params, index);
      } catch (err) {
        if (err?.name === "UsageError") throw err;
        record = { ok: false, error: describeError(err) };
      }
    }
    results.push({ action, ...record, calls: recorder.since(mark), storedDevice: storedDevice() });
  }

  return {
    library: "amazon-cognito-identity-js",
    version: await packageVersion("amazon-cognito-identity-js"),
    results,
    calls: recorder.calls,
    storageKeys: [...storage.items.keys()].sort(),
    totpCodes,
  };
}

await run("identity_mfa.mjs", main);
