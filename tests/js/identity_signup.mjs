// Self-service sign-up, recovery and attribute verification with amazon-cognito-identity-js,
// as a Node application would drive them.
//
//   node identity_signup.mjs '<json>'
//
// Input: {"endpoint", "poolId", "clientId", "username", "password", "actions": [...]}
// Same contract as identity_js.mjs: an action is a name or {"action": name, ...parameters}
// (parameters default to the top-level fields); the actions run in order on ONE
// CognitoUser and each appends a record {"action", "ok", ..., "calls"} to "results"
// (calls: the requests it made, see auth_common.mjs). A failing action is recorded (ok
// false, error {name, code, message, ...}) and the next one still runs.
//
// The codes the user is sent are not this script's business: the caller reads them (from
// the email an SMTP sink received) and passes them in a later run. Each run starts with an
// empty session, so actions that need one come after "authenticate" in the same run.
//
//   signUp                    CognitoUserPool.signUp(username, password, attributes).
//                             {username?, password?, attributes: {Name: Value}} ->
//                             {userConfirmed, userSub, codeDeliveryDetails, username}
//   confirmRegistration       confirmRegistration(code, forceAliasCreation?) -> {result}
//   resendConfirmationCode    resendConfirmationCode -> {codeDeliveryDetails}
//   forgotPassword            forgotPassword with an inputVerificationCode callback (or
//                             without one when {inputVerificationCode: false}) ->
//                             {callback: "inputVerificationCode" | "onSuccess",
//                             codeDeliveryDetails}
//   confirmPassword           confirmPassword(code, newPassword) -> {result}
//   authenticate              authenticateUser (SRP) {password?} -> {outcome, idToken,
//                             accessToken, refreshToken} or error
//   updateAttributes          updateAttributes({attributes: {Name: Value}}) -> {result,
//                             codeDeliveryDetailsList}
//   getAttributeVerificationCode  {attribute} -> {callback, codeDeliveryDetails}
//   verifyAttribute           verifyAttribute(attribute, code) -> {result}
//   getUserAttributes         getUserAttributes -> {attributes: {Name: Value}}
//   deleteUser                deleteUser -> {result}
//
// Output (last line): {"library", "version", "results": [...], "calls": [...]}, or
// {"error": {...}} for a bad argument.

import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
} from "amazon-cognito-identity-js";

import {
  describeError,
  describeToken,
  failure,
  MemoryStorage,
  normaliseActions,
  packageVersion,
  recordFetch,
  requireFields,
  run,
  settle,
} from "./auth_common.mjs";

/** identity_signup reports a timeout or a throw without an `outcome`. */
const settleCallback = (start) => settle(start, { labelled: false });

/** A Node-style callback (err, value, extra) for settleCallback(). */
function nodeCallback(done) {
  return (err, value, extra) =>
    done(err ? { error: describeError(err) } : { value, extra: extra ?? null });
}

/** The {onSuccess, onFailure[, inputVerificationCode]} callbacks map, recording which fired. */
function callbackMap(done, { inputVerificationCode = false } = {}) {
  const callbacks = {
    onSuccess: (value) => done({ callback: "onSuccess", value }),
    onFailure: (err) => done({ callback: "onFailure", error: describeError(err) }),
  };
  if (inputVerificationCode) {
    callbacks.inputVerificationCode = (value) => done({ callback: "inputVerificationCode", value });
  }
  return callbacks;
}

function attributeList(attributes) {
  if (attributes === null || typeof attributes !== "object" || Array.isArray(attributes)) {
    const err = new Error('"attributes" must be an object {Name: Value}');
    err.name = "UsageError";
    throw err;
  }
  return Object.entries(attributes).map(
    ([Name, Value]) => new CognitoUserAttribute({ Name, Value: String(Value) }),
  );
}

function need(params, name) {
  if (params[name] === undefined || params[name] === null) {
    const err = new Error(`the action needs "${name}"`);
    err.name = "UsageError";
    throw err;
  }
  return params[name];
}

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
  const user = new CognitoUser({ Username: input.username, Pool: pool, Storage: storage });

  const handlers = {
    async signUp(params) {
      const username = params.username ?? input.username;
      const result = await settleCallback((done) =>
        pool.signUp(
          username,
          params.password ?? input.password,
          attributeList(params.attributes ?? input.attributes ?? {}),
          null,
          nodeCallback(done),
        ),
      );
      if (result.error) return { ok: false, error: result.error };
      const { user: signedUp, userConfirmed, userSub, codeDeliveryDetails } = result.value;
      return {
        ok: true,
        username: signedUp.getUsername(),
        userConfirmed,
        userSub,
        codeDeliveryDetails: codeDeliveryDetails ?? null,
      };
    },

    async confirmRegistration(params) {
      const code = need(params, "code");
      const force = params.forceAliasCreation ?? false;
      const result = await settleCallback((done) =>
        user.confirmRegistration(code, force, nodeCallback(done)),
      );
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, result: result.value };
    },

    async resendConfirmationCode() {
      const result = await settleCallback((done) => user.resendConfirmationCode(nodeCallback(done)));
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, codeDeliveryDetails: result.value?.CodeDeliveryDetails ?? null };
    },

    async forgotPassword(params) {
      const inputVerificationCode = params.inputVerificationCode ?? true;
      const result = await settleCallback((done) =>
        user.forgotPassword(callbackMap(done, { inputVerificationCode })),
      );
      if (result.error) return { ok: false, callback: result.callback, error: result.error };
      return {
        ok: true,
        callback: result.callback,
        codeDeliveryDetails: result.value?.CodeDeliveryDetails ?? null,
      };
    },

    async confirmPassword(params) {
      const code = need(params, "code");
      const newPassword = need({ ...input, ...params }, "newPassword");
      const result = await settleCallback((done) =>
        user.confirmPassword(code, newPassword, callbackMap(done)),
      );
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, callback: result.callback, result: result.value };
    },

    async authenticate(params) {
      const details = new AuthenticationDetails({
        Username: params.username ?? input.username,
        Password: params.password ?? input.password,
      });
      const result = await settleCallback((done) =>
        user.authenticateUser(details, {
          onSuccess: (session) => done({ session }),
          onFailure: (err) => done({ error: describeError(err) }),
          newPasswordRequired: () => done({ outcome: "newPasswordRequired" }),
          mfaRequired: () => done({ outcome: "mfaRequired" }),
          totpRequired: () => done({ outcome: "totpRequired" }),
          customChallenge: () => done({ outcome: "customChallenge" }),
          mfaSetup: () => done({ outcome: "mfaSetup" }),
          selectMFAType: () => done({ outcome: "selectMFAType" }),
        }),
      );
      if (result.error) return { ok: false, outcome: "failure", error: result.error };
      if (!result.session) return { ok: false, outcome: result.outcome };
      const session = result.session;
      return {
        ok: true,
        outcome: "success",
        idToken: describeToken(session.getIdToken().getJwtToken()),
        accessToken: describeToken(session.getAccessToken().getJwtToken()),
        refreshToken: session.getRefreshToken().getToken() ?? null,
      };
    },

    async updateAttributes(params) {
      const list = attributeList(need(params, "attributes"));
      const result = await settleCallback((done) => user.updateAttributes(list, nodeCallback(done)));
      if (result.error) return { ok: false, error: result.error };
      return {
        ok: true,
        result: result.value,
        codeDeliveryDetailsList: result.extra?.CodeDeliveryDetailsList ?? null,
      };
    },

    async getAttributeVerificationCode(params) {
      const attribute = need(params, "attribute");
      const result = await settleCallback((done) =>
        user.getAttributeVerificationCode(
          attribute,
          callbackMap(done, { inputVerificationCode: params.inputVerificationCode ?? true }),
        ),
      );
      if (result.error) return { ok: false, error: result.error };
      return {
        ok: true,
        callback: result.callback,
        codeDeliveryDetails: result.value?.CodeDeliveryDetails ?? null,
      };
    },

    async verifyAttribute(params) {
      const attribute = need(params, "attribute");
      const code = need(params, "code");
      const result = await settleCallback((done) =>
        user.verifyAttribute(attribute, code, callbackMap(done)),
      );
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, callback: result.callback, result: result.value };
    },

    async getUserAttributes() {
      const result = await settleCallback((done) => user.getUserAttributes(nodeCallback(done)));
      if (result.error) return { ok: false, error: result.error };
      return {
        ok: true,
        attributes: Object.fromEntries(result.value.map((a) => [a.getName(), a.getValue()])),
      };
    },

    async deleteUser() {
      const result = await settleCallback((done) => user.deleteUser(nodeCallback(done)));
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, result: result.value };
    },
  };

  const results = [];
  for (const { action, ...params } of actions) {
    const mark = recorder.mark();
    const handler = Object.hasOwn(handlers, action) ? handlers[action] : null;
    let record;
    if (!handler) {
      record = failure("UsageError", `unknown action ${JSON.stringify(action)}`);
    } else {
      try {
        record = await handler(params);
      } catch (err) {
        record = { ok: false, error: describeError(err) };
      }
    }
    results.push({ action, ...record, calls: recorder.since(mark) });
  }

  return {
    library: "amazon-cognito-identity-js",
    version: await packageVersion("amazon-cognito-identity-js"),
    results,
    calls: recorder.calls,
  };
}

await run("identity_signup.mjs", main);
