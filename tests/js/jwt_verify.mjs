// Verify Cognate's tokens with aws-jwt-verify, as a Node backend would.
//
//   node jwt_verify.mjs '<json>'
//
// Input: {"endpoint", "region", "poolId", "clientId", "idToken", "accessToken",
//         "mode": "local" | "aws"}
//
// mode "local": the issuer is <endpoint>/<poolId> and the JWKS is fetched by the
//   verifier itself from <endpoint>/<poolId>/.well-known/jwks.json, with JwtRsaVerifier:
//   the ID token with audience = clientId and token_use "id"; the access token with
//   audience null (it has no aud) and a customJwtCheck on client_id and token_use
//   "access". aws-jwt-verify's default fetcher only speaks https (node:https), so the
//   verifiers get a SimpleJwksCache whose fetcher uses fetch(), which speaks http too.
// mode "aws": the issuer is https://cognito-idp.<region>.amazonaws.com/<poolId>, checked
//   by CognitoJwtVerifier ({userPoolId, clientId, tokenUse}); that verifier only fetches
//   from AWS over https, so the JWKS is fetched here over http and preloaded with
//   verifier.cacheJwks(jwks).
//
// Output (last line): {
//   "library", "version", "mode", "expectedIssuer", "jwksUri",
//   "discovery": {"status", "document"} (OIDC discovery document), "jwks": {"status", "keys"},
//   "id": {"ok", "payload" | "error"}, "access": {...},       the genuine tokens
//   "tamperedId": {...}, "tamperedAccess": {...},            payload changed, signature kept
//   "idAsAccess": {...}, "accessAsId": {...},                verified as the other token_use
//   "wrongClientId": {...}, "wrongClientAccess": {...},      verified for another app client
//   "calls": [...]
// } or {"error": {...}} for a bad argument.

import { CognitoJwtVerifier, JwtRsaVerifier } from "aws-jwt-verify";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";

import {
  describeError,
  packageVersion,
  recordFetch,
  requireFields,
  run,
  tamperJwt,
} from "./auth_common.mjs";

const WRONG_CLIENT_ID = "wrongclientid0000000000000";

/** The error a customJwtCheck throws: named, so that the output says which check failed. */
function claimError(message) {
  const err = new Error(message);
  err.name = "CustomJwtCheckError";
  return err;
}

/** aws-jwt-verify's Fetcher interface over fetch(), which, unlike node:https, does http. */
const httpFetcher = {
  async fetch(uri) {
    const response = await fetch(uri);
    if (response.status !== 200) {
      throw new Error(`GET ${uri}: status ${response.status}, expected 200`);
    }
    return response.arrayBuffer();
  },
};

async function getJson(url) {
  const response = await fetch(url);
  let document = null;
  try {
    document = await response.json();
  } catch {
    document = null;
  }
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    document,
  };
}

async function outcome(promise) {
  try {
    return { ok: true, payload: await promise };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}

function localVerifiers(input, issuer, jwksUri, clientId) {
  const jwksCache = new SimpleJwksCache({ fetcher: httpFetcher });
  const id = JwtRsaVerifier.create(
    {
      issuer,
      jwksUri,
      audience: clientId,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== "id") {
          throw claimError(`token_use is ${JSON.stringify(payload.token_use)}, expected "id"`);
        }
      },
    },
    { jwksCache },
  );
  const access = JwtRsaVerifier.create(
    {
      issuer,
      jwksUri,
      // An access token has no aud: the app client is in client_id.
      audience: null,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== "access") {
          throw claimError(`token_use is ${JSON.stringify(payload.token_use)}, expected "access"`);
        }
        if (payload.client_id !== clientId) {
          throw claimError(
            `client_id is ${JSON.stringify(payload.client_id)}, expected ${JSON.stringify(clientId)}`,
          );
        }
      },
    },
    { jwksCache },
  );
  return { id, access };
}

function awsVerifiers(input, clientId, jwks) {
  const id = CognitoJwtVerifier.create({ userPoolId: input.poolId, clientId, tokenUse: "id" });
  const access = CognitoJwtVerifier.create({ userPoolId: input.poolId, clientId, tokenUse: "access" });
  if (jwks) {
    id.cacheJwks(jwks);
    access.cacheJwks(jwks);
  }
  return { id, access };
}

async function main(input) {
  requireFields(input, ["endpoint", "poolId", "clientId", "idToken", "accessToken", "mode"]);
  if (!["local", "aws"].includes(input.mode)) {
    const err = new Error(`mode must be "local" or "aws", not ${JSON.stringify(input.mode)}`);
    err.name = "UsageError";
    throw err;
  }
  const recorder = recordFetch();
  const base = `${input.endpoint}/${input.poolId}`;
  const jwksUri = `${base}/.well-known/jwks.json`;
  const region = input.region ?? input.poolId.split("_")[0];
  const expectedIssuer =
    input.mode === "local" ? base : `https://cognito-idp.${region}.amazonaws.com/${input.poolId}`;

  const output = {
    library: "aws-jwt-verify",
    version: await packageVersion("aws-jwt-verify"),
    mode: input.mode,
    expectedIssuer,
    jwksUri,
  };
  output.discovery = await getJson(`${base}/.well-known/openid-configuration`);
  const jwksResponse = await getJson(jwksUri);
  output.jwks = {
    status: jwksResponse.status,
    contentType: jwksResponse.contentType,
    keys: jwksResponse.document?.keys ?? null,
  };

  let make;
  if (input.mode === "local") {
    make = (clientId) => localVerifiers(input, expectedIssuer, jwksUri, clientId);
  } else {
    // Preloading fails (JwksValidationError) when the JWKS is malformed: report it, and
    // verify anyway (without a JWKS the verifiers then fail on their own).
    let jwks = null;
    try {
      const fresh = awsVerifiers(input, input.clientId, null);
      fresh.id.cacheJwks(jwksResponse.document);
      jwks = jwksResponse.document;
      output.cacheJwks = { ok: true };
    } catch (err) {
      output.cacheJwks = { ok: false, error: describeError(err) };
    }
    make = (clientId) => awsVerifiers(input, clientId, jwks);
  }

  const verifiers = make(input.clientId);
  output.id = await outcome(verifiers.id.verify(input.idToken));
  output.access = await outcome(verifiers.access.verify(input.accessToken));
  output.tamperedId = await outcome(verifiers.id.verify(tamperJwt(input.idToken)));
  output.tamperedAccess = await outcome(
    verifiers.access.verify(tamperJwt(input.accessToken, "username")),
  );
  output.idAsAccess = await outcome(verifiers.access.verify(input.idToken));
  output.accessAsId = await outcome(verifiers.id.verify(input.accessToken));
  const wrong = make(WRONG_CLIENT_ID);
  output.wrongClientId = await outcome(wrong.id.verify(input.idToken));
  output.wrongClientAccess = await outcome(wrong.access.verify(input.accessToken));
  output.calls = recorder.calls.map(({ method, url, status }) => ({ method, url, status }));
  return output;
}

await run("jwt_verify.mjs", main);
