// Drive Cognate with Amplify JS v6 (aws-amplify, Auth category), as a Node application would.
//
//   node amplify_auth.mjs '<json>'
//
// Input: {"endpoint", "poolId", "clientId", "username", "password", "actions": [...]}
// An action is a name or {"action": name, ...parameters}; parameters default to the
// top-level fields. Each action appends {"action", "ok", ..., "calls", "hubEvents"} to
// "results" (calls: the requests it made, see auth_common.mjs; hubEvents: the Amplify
// Hub "auth" events it dispatched). A failing action is recorded and the next one runs.
//
//   sign_in                     signIn({username, password}) (SRP, Amplify's default flow;
//                               {authFlowType: "USER_PASSWORD_AUTH"} to change it)
//                               -> {isSignedIn, nextStep}
//   confirm_sign_in             confirmSignIn({challengeResponse}): the given
//                               "challengeResponse" (an MFA type, an email address...), or
//                               with "codeFrom": "prompt" a line read from stdin after
//                               printing {"prompt": {"action", "index", "label"}} (a code
//                               the caller takes from the outbox) -> {isSignedIn, nextStep}
//   confirm_new_password        confirmSignIn({challengeResponse: newPassword,
//                               options: {userAttributes: attributes}}) -> {isSignedIn, nextStep}
//   fetch_session               fetchAuthSession() -> {tokens: {idToken, accessToken} | null, userSub}
//   fetch_session_force_refresh fetchAuthSession({forceRefresh: true}) -> the same, and
//                               {accessTokenChanged, idTokenChanged, refreshTokenChanged}
//                               against the tokens held before the action.
//   fetch_user_attributes       fetchUserAttributes() -> {attributes}
//   get_current_user            getCurrentUser() -> {username, userId, signInDetails}
//   sign_out_global             signOut({global: true}) (Amplify swallows the service's
//                               answer: look at "calls"). The token storage is
//                               snapshotted first, for force_refresh_with_saved_tokens.
//   fetch_session_after_sign_out fetchAuthSession() once signed out.
//   force_refresh_with_saved_tokens  puts back the token storage snapshotted before
//                               sign_out_global, then fetchAuthSession({forceRefresh: true}):
//                               shows what the server answers to the revoked refresh token.
//
// Output (last line): {"library", "version", "authVersion", "results": [...],
// "calls": [...], "storageKeys": [...]}, or {"error": {...}} for a bad argument.
//
// Token storage in Node: Amplify's default token store falls back to an in-memory
// storage when there is no window.localStorage; this script sets its own in-memory
// KeyValueStorage with cognitoUserPoolsTokenProvider.setKeyValueStorage so that it can
// list and snapshot the keys.

import { createInterface } from "node:readline";

import { Amplify } from "aws-amplify";
import {
  confirmSignIn,
  fetchAuthSession,
  fetchUserAttributes,
  getCurrentUser,
  signIn,
  signOut,
} from "aws-amplify/auth";
import { cognitoUserPoolsTokenProvider } from "aws-amplify/auth/cognito";
import { Hub } from "aws-amplify/utils";

import {
  describeError,
  describeToken,
  emit,
  failure,
  normaliseActions,
  packageVersion,
  recordFetch,
  requireFields,
  run,
} from "./auth_common.mjs";

/** The KeyValueStorageInterface Amplify's token store uses (async). */
class MemoryKeyValueStorage {
  constructor() {
    this.items = new Map();
  }
  async setItem(key, value) {
    this.items.set(key, value);
  }
  async getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  async removeItem(key) {
    this.items.delete(key);
  }
  async clear() {
    this.items.clear();
  }
}

function describeTokens(tokens) {
  if (!tokens) return null;
  return {
    idToken: tokens.idToken ? describeToken(tokens.idToken.toString()) : null,
    accessToken: tokens.accessToken ? describeToken(tokens.accessToken.toString()) : null,
    signInDetails: tokens.signInDetails ?? null,
  };
}

async function main(input) {
  requireFields(input, ["endpoint", "poolId", "clientId", "actions"]);
  const actions = normaliseActions(input.actions);
  const recorder = recordFetch();
  const storage = new MemoryKeyValueStorage();

  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: input.poolId,
        userPoolClientId: input.clientId,
        userPoolEndpoint: input.endpoint,
      },
    },
  });
  cognitoUserPoolsTokenProvider.setKeyValueStorage(storage);

  const hubEvents = [];
  Hub.listen("auth", ({ payload }) => {
    const event = { event: payload.event };
    if (payload.data?.error) event.error = describeError(payload.data.error);
    hubEvents.push(event);
  });

  const refreshTokenInStorage = () => {
    for (const [key, value] of storage.items) {
      if (key.endsWith(".refreshToken")) return value;
    }
    return null;
  };
  let snapshot = null;
  let stdinLines = null;

  /** A line the caller gives on stdin, asked for with a {"prompt": ...} line. */
  async function prompted(action, index, label) {
    emit({ prompt: { action, index, label: label ?? null } });
    stdinLines ??= createInterface({ input: process.stdin })[Symbol.asyncIterator]();
    const line = await stdinLines.next();
    if (line.done) throw Object.assign(new Error("stdin closed"), { name: "UsageError" });
    return line.value.trim();
  }

  async function session(options) {
    const result = await fetchAuthSession(options);
    return {
      ok: true,
      tokens: describeTokens(result.tokens),
      userSub: result.userSub ?? null,
      hasCredentials: result.credentials !== undefined,
      identityId: result.identityId ?? null,
    };
  }

  const handlers = {
    async sign_in(params) {
      const authFlowType = params.authFlowType ?? input.authFlowType;
      const output = await signIn({
        username: params.username ?? input.username,
        password: params.password ?? input.password,
        ...(authFlowType ? { options: { authFlowType } } : {}),
      });
      return { ok: true, isSignedIn: output.isSignedIn, nextStep: output.nextStep };
    },

    async confirm_sign_in(params, index) {
      const challengeResponse =
        params.codeFrom === "prompt"
          ? await prompted("confirm_sign_in", index, params.label)
          : params.challengeResponse;
      const output = await confirmSignIn({ challengeResponse });
      return { ok: true, isSignedIn: output.isSignedIn, nextStep: output.nextStep };
    },

    async confirm_new_password(params) {
      const attributes = params.attributes ?? input.attributes;
      const output = await confirmSignIn({
        challengeResponse: params.newPassword ?? input.newPassword,
        ...(attributes ? { options: { userAttributes: attributes } } : {}),
      });
      return { ok: true, isSignedIn: output.isSignedIn, nextStep: output.nextStep };
    },

    async fetch_session() {
      return session();
    },

    async fetch_session_force_refresh() {
      const before = await fetchAuthSession();
      const refreshBefore = refreshTokenInStorage();
      const record = await session({ forceRefresh: true });
      const after = record.tokens;
      record.previousTokens = describeTokens(before.tokens);
      record.accessTokenChanged =
        (before.tokens?.accessToken?.toString() ?? null) !== (after?.accessToken?.token ?? null);
      record.idTokenChanged =
        (before.tokens?.idToken?.toString() ?? null) !== (after?.idToken?.token ?? null);
      record.refreshTokenChanged = refreshBefore !== refreshTokenInStorage();
      record.hadRefreshToken = refreshBefore !== null;
      return record;
    },

    async fetch_user_attributes() {
      const attributes = await fetchUserAttributes();
      return { ok: true, attributes };
    },

    async get_current_user() {
      const user = await getCurrentUser();
      return {
        ok: true,
        username: user.username,
        userId: user.userId,
        signInDetails: user.signInDetails ?? null,
      };
    },

    async sign_out_global() {
      snapshot = new Map(storage.items);
      await signOut({ global: true });
      return { ok: true, storageKeysAfter: [...storage.items.keys()].sort() };
    },

    async fetch_session_after_sign_out() {
      return session();
    },

    async force_refresh_with_saved_tokens() {
      if (!snapshot) {
        return failure("UsageError", "sign_out_global has not run");
      }
      storage.items = new Map(snapshot);
      return session({ forceRefresh: true });
    },
  };

  const results = [];
  for (const [index, { action, ...params }] of actions.entries()) {
    const mark = recorder.mark();
    const hubMark = hubEvents.length;
    const handler = Object.hasOwn(handlers, action) ? handlers[action] : null;
    let record;
    if (!handler) {
      record = failure("UsageError", `unknown action ${JSON.stringify(action)}`);
    } else {
      try {
        record = await handler(params, index);
      } catch (err) {
        record = { ok: false, error: describeError(err) };
      }
    }
    // Hub dispatches synchronously, but let listeners queued on microtasks run.
    await new Promise((resolve) => setImmediate(resolve));
    results.push({
      action,
      ...record,
      calls: recorder.since(mark),
      hubEvents: hubEvents.slice(hubMark),
    });
  }

  return {
    library: "aws-amplify",
    version: await packageVersion("aws-amplify"),
    authVersion: await packageVersion("@aws-amplify/auth"),
    results,
    calls: recorder.calls,
    storageKeys: [...storage.items.keys()].sort(),
  };
}

await run("amplify_auth.mjs", main);
