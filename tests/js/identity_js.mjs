// Drive Cognate with amazon-cognito-identity-js, as a Node application would.
//
//   node identity_js.mjs '<json>'
//
// Input: {"endpoint", "poolId", "clientId", "username", "password", "actions": [...],
//         "authenticationFlowType"?: "USER_SRP_AUTH" (default) | "USER_PASSWORD_AUTH"}
// An action is a name or {"action": name, ...parameters}; parameters default to the
// top-level fields. The actions run in order on ONE CognitoUser; each appends a record
// {"action", "ok", ..., "calls"} to "results" (calls: the requests it made, see
// auth_common.mjs). A failing action is recorded and the next one still runs.
//
//   authenticate              authenticateUser (SRP, the library's default flow).
//                             {username?, password?} -> {outcome, username, idToken,
//                             accessToken, refreshToken, clockDrift, isValid} or error;
//                             outcome is "success", or the challenge callback that fired
//                             ("newPasswordRequired" with userAttributes and
//                             requiredAttributes, "mfaRequired", ...).
//   authenticate_new_password authenticateUser expecting newPasswordRequired, then
//                             completeNewPasswordChallenge(newPassword, attributes).
//                             {password?, newPassword, attributes?} -> {firstOutcome,
//                             userAttributes, requiredAttributes, outcome, tokens...}
//   get_session               getSession -> the session's tokens.
//   refresh_session           refreshSession with the current session's refresh token
//                             -> the new tokens.
//   change_password           changePassword(oldPassword, newPassword).
//   get_user_attributes       getUserAttributes -> {attributes: {Name: Value}}.
//   global_sign_out           globalSignOut.
//   refresh_after_sign_out    refreshSession with the refresh token of the last session
//                             obtained before (expected to fail once signed out).
//
// Output (last line): {"library", "version", "results": [...], "calls": [...],
// "storageKeys": [...]}, or {"error": {...}} for a bad argument.
//
// Node has no localStorage: CognitoUserPool gets an in-memory Storage object.

import {
  AuthenticationDetails,
  CognitoRefreshToken,
  CognitoUser,
  CognitoUserPool,
} from "amazon-cognito-identity-js";

import {
  MemoryStorage,
  describeError,
  describeToken,
  failure,
  normaliseActions,
  packageVersion,
  recordFetch,
  requireFields,
  run,
  settle,
} from "./auth_common.mjs";

function describeSession(session) {
  if (!session) return { session: null };
  return {
    idToken: describeToken(session.getIdToken().getJwtToken()),
    accessToken: describeToken(session.getAccessToken().getJwtToken()),
    refreshToken: session.getRefreshToken().getToken() ?? null,
    clockDrift: session.getClockDrift(),
    isValid: session.isValid(),
  };
}

/** The callbacks object authenticateUser / completeNewPasswordChallenge take. */
function authCallbacks(done) {
  const challenge = (outcome) => (...args) => done({ outcome, challengeArguments: args });
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
    customChallenge: challenge("customChallenge"),
    mfaSetup: challenge("mfaSetup"),
    selectMFAType: challenge("selectMFAType"),
  };
}

function authenticationRecord(result, user) {
  const record = {
    ok: result.outcome === "success",
    outcome: result.outcome,
    username: user.getUsername(),
  };
  if (result.outcome === "success") {
    Object.assign(record, describeSession(result.session));
    record.userConfirmationNecessary = result.userConfirmationNecessary;
  } else if (result.outcome === "newPasswordRequired") {
    record.userAttributes = result.userAttributes;
    record.requiredAttributes = result.requiredAttributes;
  } else if (result.error) {
    record.error = result.error;
  } else {
    record.challengeArguments = result.challengeArguments ?? null;
  }
  return record;
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
  if (input.authenticationFlowType) {
    // "USER_SRP_AUTH" (the default) or "USER_PASSWORD_AUTH".
    user.setAuthenticationFlowType(input.authenticationFlowType);
  }
  // The refresh token of the last session obtained, for refresh_after_sign_out.
  let lastRefreshToken = null;
  const remember = (record) => {
    if (record.refreshToken) lastRefreshToken = record.refreshToken;
    return record;
  };

  const handlers = {
    async authenticate(params) {
      const details = new AuthenticationDetails({
        Username: params.username ?? input.username,
        Password: params.password ?? input.password,
      });
      const result = await settle((done) => user.authenticateUser(details, authCallbacks(done)));
      return remember(authenticationRecord(result, user));
    },

    async authenticate_new_password(params) {
      const details = new AuthenticationDetails({
        Username: params.username ?? input.username,
        Password: params.password ?? input.password,
      });
      const first = await settle((done) => user.authenticateUser(details, authCallbacks(done)));
      const record = { firstOutcome: first.outcome };
      if (first.outcome !== "newPasswordRequired") {
        return { ...record, ...authenticationRecord(first, user), ok: false };
      }
      record.userAttributes = first.userAttributes;
      record.requiredAttributes = first.requiredAttributes;
      const newPassword = params.newPassword ?? input.newPassword;
      const attributes = params.attributes ?? input.attributes ?? {};
      const second = await settle((done) =>
        user.completeNewPasswordChallenge(newPassword, attributes, authCallbacks(done)),
      );
      const completed = authenticationRecord(second, user);
      delete completed.userAttributes;
      delete completed.requiredAttributes;
      if (second.outcome === "newPasswordRequired") {
        completed.userAttributesAgain = second.userAttributes;
        completed.requiredAttributesAgain = second.requiredAttributes;
      }
      return remember({ ...record, ...completed });
    },

    async get_session() {
      const result = await settle((done) =>
        user.getSession((err, session) =>
          done(err ? { error: describeError(err) } : { session }),
        ),
      );
      if (result.error) return { ok: false, error: result.error };
      return remember({ ok: true, ...describeSession(result.session) });
    },

    async refresh_session() {
      const session = user.getSignInUserSession();
      if (!session) {
        return failure("NoSession", "no session to refresh");
      }
      return refresh(session.getRefreshToken());
    },

    async refresh_after_sign_out() {
      if (!lastRefreshToken) {
        return failure("NoSession", "no refresh token was obtained before");
      }
      return refresh(new CognitoRefreshToken({ RefreshToken: lastRefreshToken }));
    },

    async change_password(params) {
      const oldPassword = params.oldPassword ?? input.password;
      const newPassword = params.newPassword ?? input.newPassword;
      const result = await settle((done) =>
        user.changePassword(oldPassword, newPassword, (err, value) =>
          done(err ? { error: describeError(err) } : { value }),
        ),
      );
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, result: result.value };
    },

    async get_user_attributes() {
      const result = await settle((done) =>
        user.getUserAttributes((err, attributes) =>
          done(err ? { error: describeError(err) } : { attributes }),
        ),
      );
      if (result.error) return { ok: false, error: result.error };
      const list = result.attributes.map((a) => ({ Name: a.getName(), Value: a.getValue() }));
      return {
        ok: true,
        attributeList: list,
        attributes: Object.fromEntries(list.map((a) => [a.Name, a.Value])),
      };
    },

    async global_sign_out() {
      const result = await settle((done) =>
        user.globalSignOut({
          onSuccess: (value) => done({ value }),
          onFailure: (err) => done({ error: describeError(err) }),
        }),
      );
      if (result.error) return { ok: false, error: result.error };
      return { ok: true, result: result.value };
    },
  };

  async function refresh(refreshToken) {
    const result = await settle((done) =>
      user.refreshSession(refreshToken, (err, session) =>
        done(err ? { error: describeError(err) } : { session }),
      ),
    );
    if (result.error) return { ok: false, error: result.error };
    return remember({ ok: true, ...describeSession(result.session) });
  }

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
    storageKeys: [...storage.items.keys()].sort(),
  };
}

await run("identity_js.mjs", main);
