// Sign in to Cognate with the AWS SDK for JavaScript v3 (USER_PASSWORD_AUTH), as a Node
// application would without an auth library.
//
//   node sdk_auth.mjs '<json>'
//
// Input: {"endpoint", "region", "clientId", "username", "password",
//         "wrongPassword"?, "unknownUsername"?, "accessToken"?}
//
// Steps, each recorded under its own key:
//   right          InitiateAuth USER_PASSWORD_AUTH with the right password
//                  -> {ok, httpStatusCode, authenticationResultKeys, ExpiresIn, TokenType,
//                      ChallengeName, ChallengeParameters, idToken, accessToken, refreshToken}
//   wrongPassword  the same with a wrong password -> {ok: false, error}
//   unknownUser    the same for a user that does not exist -> {ok: false, error}
//   getUser        GetUser with the access token from "right"
//                  -> {ok, Username, UserAttributes, attributes: {Name: Value}, keys}
//   getUserWithGivenToken  GetUser with input.accessToken, when given (e.g. a token
//                  signed out since) -> the same shape, or {ok: false, error}
// An error is {name, code, message, httpStatusCode, requestId, fault, isServiceException,
// isModeledException} (isModeledException: an instance of the SDK's class of that name).
//
// Output (last line): {"library", "version", "right", "wrongPassword", "unknownUser",
// "getUser", ["getUserWithGivenToken"], "requests": [{target, signed}]}, or
// {"error": {...}} for a bad argument.

import * as sdk from "@aws-sdk/client-cognito-identity-provider";

import {
  describeError,
  describeToken,
  failure,
  packageVersion,
  requireFields,
  run,
} from "./auth_common.mjs";

const {
  CognitoIdentityProviderClient,
  CognitoIdentityProviderServiceException,
  GetUserCommand,
  InitiateAuthCommand,
} = sdk;

function describeSdkError(err) {
  const described = describeError(err);
  described.isServiceException = err instanceof CognitoIdentityProviderServiceException;
  const modeled = sdk[err?.name];
  described.isModeledException =
    typeof modeled === "function" && modeled.prototype instanceof Error && err instanceof modeled;
  return described;
}

async function initiateAuth(client, clientId, username, password) {
  try {
    const output = await client.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
    const result = output.AuthenticationResult;
    return {
      ok: true,
      httpStatusCode: output.$metadata.httpStatusCode,
      requestId: output.$metadata.requestId ?? null,
      outputKeys: Object.keys(output).filter((key) => key !== "$metadata").sort(),
      ChallengeName: output.ChallengeName ?? null,
      ChallengeParameters: output.ChallengeParameters ?? null,
      hasSession: output.Session !== undefined,
      authenticationResultKeys: result ? Object.keys(result).sort() : null,
      ExpiresIn: result?.ExpiresIn ?? null,
      TokenType: result?.TokenType ?? null,
      idToken: result?.IdToken ? describeToken(result.IdToken) : null,
      accessToken: result?.AccessToken ? describeToken(result.AccessToken) : null,
      refreshToken: result?.RefreshToken ?? null,
      NewDeviceMetadata: result?.NewDeviceMetadata ?? null,
    };
  } catch (err) {
    return { ok: false, error: describeSdkError(err) };
  }
}

async function getUser(client, accessToken) {
  try {
    const output = await client.send(new GetUserCommand({ AccessToken: accessToken }));
    const attributes = output.UserAttributes ?? [];
    return {
      ok: true,
      httpStatusCode: output.$metadata.httpStatusCode,
      keys: Object.keys(output).filter((key) => key !== "$metadata").sort(),
      Username: output.Username,
      UserAttributes: attributes,
      attributes: Object.fromEntries(attributes.map((a) => [a.Name, a.Value])),
      MFAOptions: output.MFAOptions ?? null,
      PreferredMfaSetting: output.PreferredMfaSetting ?? null,
      UserMFASettingList: output.UserMFASettingList ?? null,
    };
  } catch (err) {
    return { ok: false, error: describeSdkError(err) };
  }
}

async function main(input) {
  requireFields(input, ["endpoint", "region", "clientId", "username", "password"]);
  const client = new CognitoIdentityProviderClient({
    endpoint: input.endpoint,
    region: input.region,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID || "AKIDEXAMPLE",
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "secret",
    },
    // A failure must show at once, not after retries with back-off.
    maxAttempts: 1,
  });
  // Record which operation each request named and whether the SDK signed it
  // (InitiateAuth and GetUser are public operations: the SDK sends them unsigned).
  const requests = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const headers = args.request?.headers ?? {};
      const lower = Object.fromEntries(
        Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]),
      );
      requests.push({
        target: (lower["x-amz-target"] ?? "").split(".").pop() || null,
        signed: "authorization" in lower,
      });
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "cognateRecordRequests" },
  );

  const output = {
    library: "@aws-sdk/client-cognito-identity-provider",
    version: await packageVersion("@aws-sdk/client-cognito-identity-provider"),
  };
  output.right = await initiateAuth(client, input.clientId, input.username, input.password);
  output.wrongPassword = await initiateAuth(
    client,
    input.clientId,
    input.username,
    input.wrongPassword ?? `${input.password}-wrong`,
  );
  output.unknownUser = await initiateAuth(
    client,
    input.clientId,
    input.unknownUsername ?? `no-such-user-${Date.now()}`,
    input.password,
  );
  const accessToken = output.right.accessToken?.token;
  output.getUser = accessToken
    ? await getUser(client, accessToken)
    : failure("NoToken", "the sign-in gave no access token");
  if (input.accessToken) {
    output.getUserWithGivenToken = await getUser(client, input.accessToken);
  }
  output.requests = requests;
  return output;
}

await run("sdk_auth.mjs", main);
