// Custom authentication (CUSTOM_AUTH, and CUSTOM_WITH_SRP) with amazon-cognito-identity-js,
// as a Node application would drive it.
//
//   node identity_custom.mjs '<json>'
//
// Input: {"endpoint", "poolId", "clientId", "username", "password"?, "actions": [...]}
// Same contract as identity_js.mjs: an action is a name or {"action": name, ...parameters};
// the actions run in order on ONE CognitoUser (whose authentication flow type is set to
// CUSTOM_AUTH); each appends a record {"action", "ok", "outcome", ..., "username",
// "calls"} to "results" (calls: the requests it made, see auth_common.mjs; username: the
// CognitoUser's username afterwards, which SRP replaces by USER_ID_FOR_SRP). A failing
// action is recorded and the next one still runs.
//
//   initiate_auth         cognitoUser.initiateAuth (CUSTOM_AUTH without a password).
//                         {clientMetadata?} -> AuthenticationDetails' ClientMetadata.
//   authenticate          cognitoUser.authenticateUser with flow type CUSTOM_AUTH and a
//                         password: the library starts with CHALLENGE_NAME SRP_A and
//                         answers the PASSWORD_VERIFIER step itself (CUSTOM_WITH_SRP).
//                         {password?, clientMetadata?}
//   send_answer           cognitoUser.sendCustomChallengeAnswer(answer, callbacks,
//                         clientMetadata). {answer, clientMetadata?}
//   get_session           getSession -> the session's tokens.
//   get_user_attributes   getUserAttributes -> {attributes: {Name: Value}} (a GetUser with
//                         the access token of the session).
//
// The sign-in actions report which callback fired: outcome "success" (with the session's
// idToken / accessToken (raw and decoded), refreshToken and isValid), "customChallenge"
// (with challengeParameters: what the library handed to the callback), "failure" (with
// error), or another challenge callback's name.
//
// Output (last line): {"library", "version", "results": [...], "calls": [...],
// "storageKeys": [...]}, or {"error": {...}} for a bad argument.

import { AuthenticationDetails, CognitoUser, CognitoUserPool } from "amazon-cognito-identity-js";

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

function describeSession(session) {
  if (!session) return { session: null };
  return {
    idToken: describeToken(session.getIdToken().getJwtToken()),
    accessToken: describeToken(session.getAccessToken().getJwtToken()),
    refreshToken: session.getRefreshToken().getToken() ?? null,
    isValid: session.isValid(),
  };
}

/** The callbacks object initiateAuth, authenticateUser and sendCustomChallengeAnswer take. */
function authCallbacks(done) {
  const other = (outcome) => (...args) => done({ outcome, challengeArguments: args });
  return {
    onSuccess: (session) => done({ outcome: "success", session }),
    onFailure: (err) => done({ outcome: "failure", error: describeError(err) }),
    customChallenge: (challengeParameters) =>
      done({ outcome: "customChallenge", challengeParameters: challengeParameters ?? null }),
    newPasswordRequired: other("newPasswordRequired"),
    mfaRequired: other("mfaRequired"),
    totpRequired: other("totpRequired"),
    mfaSetup: other("mfaSetup"),
    selectMFAType: other("selectMFAType"),
  };
}

function authenticationRecord(result) {
  const record = { ok: result.outcome === "success", outcome: result.outcome };
  if (result.outcome === "success") {
    Object.assign(record, describeSession(result.session));
  } else if (result.outcome === "customChallenge") {
    record.ok = true;
    record.challengeParameters = result.challengeParameters;
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
  user.setAuthenticationFlowType("CUSTOM_AUTH");

  const details = (params, password) =>
    new AuthenticationDetails({
      Username: input.username,
      Password: password,
      ClientMetadata: params.clientMetadata,
    });

  const handlers = {
    async initiate_auth(params) {
      const result = await settle((done) =>
        user.initiateAuth(details(params, undefined), authCallbacks(done)),
      );
      return authenticationRecord(result);
    },

    async authenticate(params) {
      const password = params.password ?? input.password;
      const result = await settle((done) =>
        user.authenticateUser(details(params, password), authCallbacks(done)),
      );
      return authenticationRecord(result);
    },

    async send_answer(params) {
      if (params.answer === undefined) {
        const err = new Error('send_answer needs "answer"');
        err.name = "UsageError";
        throw err;
      }
      const result = await settle((done) =>
        user.sendCustomChallengeAnswer(
          String(params.answer),
          authCallbacks(done),
          params.clientMetadata,
        ),
      );
      return authenticationRecord(result);
    },

    async get_session() {
      const result = await settle((done) =>
        user.getSession((err, session) =>
          done(
            err
              ? { outcome: "failure", error: describeError(err) }
              : { outcome: "success", session },
          ),
        ),
      );
      return authenticationRecord(result);
    },

    async get_user_attributes() {
      const result = await settle((done) =>
        user.getUserAttributes((err, attributes) =>
          done(err ? { error: describeError(err) } : { attributes }),
        ),
      );
      if (result.error) return { ok: false, error: result.error };
      const attributes = Object.fromEntries(
        (result.attributes ?? []).map((a) => [a.getName(), a.getValue()]),
      );
      return { ok: true, attributes };
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
    results.push({ action, ...record, username: user.getUsername(), calls: recorder.since(mark) });
  }

  return {
    library: "amazon-cognito-identity-js",
    version: await packageVersion("amazon-cognito-identity-js"),
    results,
    calls: recorder.calls,
    storageKeys: [...storage.items.keys()].sort(),
  };
}

await run("identity_custom.mjs", main);
