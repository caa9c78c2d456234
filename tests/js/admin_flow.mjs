// Drive Cognate with the AWS SDK for JavaScript v3, as a Node application would.
//
//   node admin_flow.mjs <endpoint> <region>
//
// Runs an administrative flow (user pool, app client, custom attribute, tags, domain,
// signing certificate), then provokes three errors (unknown pool, server-side validation,
// unimplemented operation), and prints ONE JSON object describing what it observed to
// stdout. tests/e2e/test_js_sdk.py makes the assertions; this script only records.
//
// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY when set, otherwise
// dummy values are used (Cognate checks the signature's form, not the key).
//
// Exit status: 0 when the flow ran (the expected errors are recorded, not fatal),
// 1 on any unexpected failure (message on stderr), 2 on bad usage.

import { createRequire } from "node:module";

import {
  AddCustomAttributesCommand,
  CognitoIdentityProviderClient,
  CognitoIdentityProviderServiceException,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  CreateUserPoolDomainCommand,
  DeleteUserPoolClientCommand,
  DeleteUserPoolCommand,
  DeleteUserPoolDomainCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  DescribeUserPoolDomainCommand,
  ListUserPoolReplicasCommand,
  GetSigningCertificateCommand,
  InvalidParameterException,
  ListTagsForResourceCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  UnsupportedOperationException,
  UpdateUserPoolClientCommand,
} from "@aws-sdk/client-cognito-identity-provider";

const [endpoint, region] = process.argv.slice(2);
if (!endpoint || !region) {
  console.error("usage: node admin_flow.mjs <endpoint> <region>");
  process.exit(2);
}

const client = new CognitoIdentityProviderClient({
  endpoint,
  region,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID || "AKIDEXAMPLE",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "secret",
  },
  // A failure must show at once, not after retries with back-off.
  maxAttempts: 1,
});

/** Send a command that must fail; return what the SDK surfaced about the error. */
async function expectError(command) {
  try {
    const output = await client.send(command);
    return { thrown: false, output };
  } catch (err) {
    return {
      thrown: true,
      name: err?.name,
      message: err?.message,
      httpStatusCode: err?.$metadata?.httpStatusCode,
      requestId: err?.$metadata?.requestId,
      fault: err?.$fault,
      isServiceException: err instanceof CognitoIdentityProviderServiceException,
      isResourceNotFoundException: err instanceof ResourceNotFoundException,
      isInvalidParameterException: err instanceof InvalidParameterException,
      isUnsupportedOperationException: err instanceof UnsupportedOperationException,
    };
  }
}

/** A JSON-friendly copy of an SDK output: Dates become ISO strings, $metadata is dropped. */
function plain(output) {
  const { $metadata, ...rest } = output;
  return JSON.parse(JSON.stringify(rest));
}

async function main() {
  const sdkPackage = createRequire(import.meta.url)(
    "@aws-sdk/client-cognito-identity-provider/package.json",
  );
  const observed = { node: process.version, sdkVersion: sdkPackage.version, region, endpoint };
  // The domain prefix is global in Cognito: derive it from the test's own region.
  const domain = `js-${region}`.toLowerCase();
  const customAttribute = "team";
  const addedAttribute = "level";

  // --- user pool -------------------------------------------------------------------
  const created = await client.send(
    new CreateUserPoolCommand({
      PoolName: "js-sdk-pool",
      UserPoolTags: { origin: "js-sdk" },
      Schema: [
        {
          Name: customAttribute,
          AttributeDataType: "String",
          Mutable: true,
          StringAttributeConstraints: { MinLength: "1", MaxLength: "64" },
        },
      ],
    }),
  );
  const pool = created.UserPool;
  observed.createUserPool = {
    httpStatusCode: created.$metadata.httpStatusCode,
    requestId: created.$metadata.requestId,
    creationDateIsDate: pool.CreationDate instanceof Date,
    lastModifiedDateIsDate: pool.LastModifiedDate instanceof Date,
    userPool: plain(created).UserPool,
  };
  const poolId = pool.Id;

  const described = await client.send(new DescribeUserPoolCommand({ UserPoolId: poolId }));
  observed.describeUserPool = plain(described).UserPool;

  const listed = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  observed.listUserPools = plain(listed);

  // --- app client ------------------------------------------------------------------
  const createdClient = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: poolId,
      ClientName: "js-sdk-app",
      GenerateSecret: true,
    }),
  );
  observed.createUserPoolClient = plain(createdClient).UserPoolClient;
  const clientId = createdClient.UserPoolClient.ClientId;

  const describedClient = await client.send(
    new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId }),
  );
  observed.describeUserPoolClient = plain(describedClient).UserPoolClient;

  const listedClients = await client.send(
    new ListUserPoolClientsCommand({ UserPoolId: poolId, MaxResults: 60 }),
  );
  observed.listUserPoolClients = plain(listedClients);

  const updatedClient = await client.send(
    new UpdateUserPoolClientCommand({
      UserPoolId: poolId,
      ClientId: clientId,
      ClientName: "js-sdk-app-renamed",
      RefreshTokenValidity: 10,
      TokenValidityUnits: { RefreshToken: "days" },
      ExplicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    }),
  );
  observed.updateUserPoolClient = plain(updatedClient).UserPoolClient;

  // --- custom attribute ------------------------------------------------------------
  await client.send(
    new AddCustomAttributesCommand({
      UserPoolId: poolId,
      CustomAttributes: [
        {
          Name: addedAttribute,
          AttributeDataType: "Number",
          Mutable: true,
          NumberAttributeConstraints: { MinValue: "0", MaxValue: "10" },
        },
      ],
    }),
  );
  const afterAttribute = await client.send(new DescribeUserPoolCommand({ UserPoolId: poolId }));
  observed.schemaAfterAddCustomAttributes = plain(afterAttribute).UserPool.SchemaAttributes;

  // --- tags ------------------------------------------------------------------------
  await client.send(
    new TagResourceCommand({ ResourceArn: pool.Arn, Tags: { team: "identity", stage: "e2e" } }),
  );
  const tags = await client.send(new ListTagsForResourceCommand({ ResourceArn: pool.Arn }));
  observed.listTagsForResource = plain(tags);

  // --- domain ----------------------------------------------------------------------
  const createdDomain = await client.send(
    new CreateUserPoolDomainCommand({ UserPoolId: poolId, Domain: domain }),
  );
  observed.createUserPoolDomain = plain(createdDomain);
  const describedDomain = await client.send(new DescribeUserPoolDomainCommand({ Domain: domain }));
  observed.describeUserPoolDomain = plain(describedDomain);

  // --- signing certificate ---------------------------------------------------------
  const certificate = await client.send(new GetSigningCertificateCommand({ UserPoolId: poolId }));
  observed.getSigningCertificate = plain(certificate);

  // --- errors ----------------------------------------------------------------------
  const missingPoolId = `${region}_doesnotexist1`;
  observed.missingPoolId = missingPoolId;
  observed.errors = {
    describeMissingPool: await expectError(
      new DescribeUserPoolCommand({ UserPoolId: missingPoolId }),
    ),
    // The JS SDK does not check ranges client-side: the server's validator answers.
    listUserPoolsMaxResultsZero: await expectError(new ListUserPoolsCommand({ MaxResults: 0 })),
  };

  // --- multi-Region replication: a pool with no replica lists its primary only -------
  observed.listUserPoolReplicas = plain(
    await client.send(new ListUserPoolReplicasCommand({ UserPoolId: poolId })),
  );

  // --- clean up (the domain prefix is global) ----------------------------------------
  await client.send(new DeleteUserPoolDomainCommand({ UserPoolId: poolId, Domain: domain }));
  await client.send(new DeleteUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId }));
  await client.send(new DeleteUserPoolCommand({ UserPoolId: poolId }));
  const finalList = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  observed.listUserPoolsAfterDelete = plain(finalList);

  process.stdout.write(`${JSON.stringify(observed)}\n`);
}

main().catch((err) => {
  const status = err?.$metadata?.httpStatusCode;
  console.error(
    `admin_flow.mjs: unexpected failure: ${err?.name}: ${err?.message}` +
      (status ? ` (HTTP ${status})` : ""),
  );
  if (err?.stack) console.error(err.stack);
  process.exit(1);
});
