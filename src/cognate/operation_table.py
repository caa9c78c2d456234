"""The operation table: every operation of the model, who implements it, and whether it is done.

`cognate operations` prints it as Markdown; the README carries that output and a test
keeps the two in step. `AREAS` groups the model's 153 operations by the project issue
that delivers them; a test checks that it names every operation exactly once.
"""

from __future__ import annotations

import cognate.operations  # noqa: F401  (registers the handlers being counted)
from cognate.api import dispatch
from cognate.wire import model

AREAS: tuple[tuple[str, list[str]], ...] = (
    (
        "User pools, app clients, domains, tags",
        [
            "CreateUserPool",
            "DescribeUserPool",
            "UpdateUserPool",
            "DeleteUserPool",
            "ListUserPools",
            "AddCustomAttributes",
            "CreateUserPoolClient",
            "DescribeUserPoolClient",
            "UpdateUserPoolClient",
            "DeleteUserPoolClient",
            "ListUserPoolClients",
            "AddUserPoolClientSecret",
            "DeleteUserPoolClientSecret",
            "ListUserPoolClientSecrets",
            "CreateUserPoolDomain",
            "DescribeUserPoolDomain",
            "UpdateUserPoolDomain",
            "DeleteUserPoolDomain",
            "TagResource",
            "UntagResource",
            "ListTagsForResource",
            "GetSigningCertificate",
            "GetUserPoolMfaConfig",
            "SetUserPoolMfaConfig",
        ],
    ),
    (
        "Users, attributes and groups",
        [
            "AdminCreateUser",
            "AdminGetUser",
            "AdminDeleteUser",
            "AdminUpdateUserAttributes",
            "AdminDeleteUserAttributes",
            "AdminDisableUser",
            "AdminEnableUser",
            "AdminResetUserPassword",
            "AdminSetUserPassword",
            "AdminConfirmSignUp",
            "ListUsers",
            "CreateGroup",
            "GetGroup",
            "UpdateGroup",
            "DeleteGroup",
            "ListGroups",
            "AdminAddUserToGroup",
            "AdminRemoveUserFromGroup",
            "AdminListGroupsForUser",
            "ListUsersInGroup",
        ],
    ),
    (
        "Authentication, tokens and sessions",
        [
            "GetUser",
            "ChangePassword",
            "InitiateAuth",
            "AdminInitiateAuth",
            "RespondToAuthChallenge",
            "AdminRespondToAuthChallenge",
            "RevokeToken",
            "GlobalSignOut",
            "AdminUserGlobalSignOut",
            "GetTokensFromRefreshToken",
            "GetUserAuthFactors",
            "AdminGetUserAuthFactors",
            "GetClientToken",
            "ListUserSessions",
            "RevokeUserSession",
            "AdminListUserSessions",
            "AdminRevokeUserSession",
            "GetUserPoolSessionConfiguration",
            "SetUserPoolSessionConfiguration",
            "GetUserPoolClientSessionConfiguration",
            "SetUserPoolClientSessionConfiguration",
        ],
    ),
    (
        "Self-service sign-up, recovery and verification",
        [
            "SignUp",
            "ConfirmSignUp",
            "ResendConfirmationCode",
            "ForgotPassword",
            "ConfirmForgotPassword",
            "UpdateUserAttributes",
            "DeleteUser",
            "DeleteUserAttributes",
            "GetUserAttributeVerificationCode",
            "VerifyUserAttribute",
        ],
    ),
    (
        "MFA, devices and passkeys",
        [
            "AssociateSoftwareToken",
            "VerifySoftwareToken",
            "SetUserMFAPreference",
            "AdminSetUserMFAPreference",
            "SetUserSettings",
            "AdminSetUserSettings",
            "AdminDeleteSoftwareToken",
            "ConfirmDevice",
            "GetDevice",
            "ListDevices",
            "ForgetDevice",
            "UpdateDeviceStatus",
            "AdminGetDevice",
            "AdminListDevices",
            "AdminForgetDevice",
            "AdminUpdateDeviceStatus",
            "StartWebAuthnRegistration",
            "CompleteWebAuthnRegistration",
            "ListWebAuthnCredentials",
            "DeleteWebAuthnCredential",
        ],
    ),
    (
        "OAuth resource servers, branding and terms",
        [
            "CreateResourceServer",
            "DescribeResourceServer",
            "UpdateResourceServer",
            "DeleteResourceServer",
            "ListResourceServers",
            "GetUICustomization",
            "SetUICustomization",
            "CreateManagedLoginBranding",
            "DescribeManagedLoginBranding",
            "DescribeManagedLoginBrandingByClient",
            "UpdateManagedLoginBranding",
            "DeleteManagedLoginBranding",
            "CreateTerms",
            "DescribeTerms",
            "DescribeTermsByClient",
            "UpdateTerms",
            "DeleteTerms",
            "ListTerms",
        ],
    ),
    (
        "Federation",
        [
            "CreateIdentityProvider",
            "DescribeIdentityProvider",
            "UpdateIdentityProvider",
            "DeleteIdentityProvider",
            "ListIdentityProviders",
            "GetIdentityProviderByIdentifier",
            "AdminLinkProviderForUser",
            "AdminDisableProviderForUser",
            "CreateCIMDPolicy",
            "DescribeCIMDPolicy",
            "UpdateCIMDPolicy",
            "DeleteCIMDPolicy",
            "ListCIMDPolicies",
            "ListClientMetadataURLs",
            "UpdateClientMetadataURLState",
            "GetDerivedToken",
        ],
    ),
    (
        "Pool operations: import, threat protection, logs, limits, recovery, replicas",
        [
            "CreateUserImportJob",
            "DescribeUserImportJob",
            "ListUserImportJobs",
            "StartUserImportJob",
            "StopUserImportJob",
            "GetCSVHeader",
            "GetLogDeliveryConfiguration",
            "SetLogDeliveryConfiguration",
            "DescribeRiskConfiguration",
            "SetRiskConfiguration",
            "AdminListUserAuthEvents",
            "AdminUpdateAuthEventFeedback",
            "UpdateAuthEventFeedback",
            "GetProvisionedLimit",
            "UpdateProvisionedLimit",
            "InitiatePointInTimeRecovery",
            "DescribePointInTimeRecovery",
            "ListPointInTimeRecoveries",
            "StartPointInTimeRecovery",
            "CancelPointInTimeRecovery",
            "CreateUserPoolReplica",
            "DeleteUserPoolReplica",
            "ListUserPoolReplicas",
            "UpdateUserPoolReplica",
        ],
    ),
)


def markdown() -> str:
    done = dispatch.implemented()
    total = len(model.operation_names())
    lines = [
        f"**{len(done)}/{total} operations implemented** (botocore's cognito-idp model; "
        "✅ implemented, — answers `UnsupportedOperationException`).",
        "",
    ]
    for area, operations in AREAS:
        count = sum(1 for op in operations if op in done)
        lines += [
            f"#### {area} ({count}/{len(operations)})",
            "",
            "| Operation | Authorization | Status |",
            "|---|---|---|",
        ]
        for op in operations:
            auth = "public (client id, session or token)" if model.is_public(op) else "IAM (SigV4)"
            lines.append(f"| {op} | {auth} | {'✅' if op in done else '—'} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
