"""Cognito's API request-rate quotas, as data: the categories, their default (free) rates
and which operation belongs to which.

Source: "Quotas in Amazon Cognito", section "Amazon Cognito user pools API operation
categories and request rate quotas" (developer guide, quotas.html#category_operations).
Each category's quota is requests per second for the account in one region, across all of
its user pools; `adjustable` categories are the ones UpdateProvisionedLimit (Service
Quotas) can raise. The categories marked `per_pool` also hold every one of their operations
to 5 RPS in any single user pool (the page's note: "Any individual operation in this
category has a constraint that prevents the operation from being called at a rate higher
than 5 RPS for a single user pool").

RespondToAuthChallenge and AdminRespondToAuthChallenge are special ("Operation special
handling"): they have their own allowance of three times the UserAuthentication rate, and
only what goes past it counts against UserAuthentication (`RESPOND_OPERATIONS`).

Operations the page does not list (Get/UpdateProvisionedLimit themselves, replicas and
point-in-time recovery) belong to no category and are not limited.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    default_rps: int
    adjustable: bool
    per_pool: bool = False


PER_POOL_OPERATION_RPS = 5
RESPOND_MULTIPLIER = 3
RESPOND_OPERATIONS = frozenset({"RespondToAuthChallenge", "AdminRespondToAuthChallenge"})

CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("UserAuthentication", 120, True),
        Category("UserCreation", 50, True),
        Category("UserFederation", 25, True),
        Category("UserAccountRecovery", 30, False),
        Category("UserRead", 120, True),
        Category("UserUpdate", 25, False),
        Category("UserToken", 120, False),
        Category("UserResourceRead", 50, True),
        Category("UserResourceUpdate", 25, False),
        Category("UserList", 30, False),
        Category("UserPoolRead", 15, False),
        Category("UserPoolUpdate", 15, False),
        Category("UserPoolResourceRead", 20, False, per_pool=True),
        Category("UserPoolResourceUpdate", 15, False, per_pool=True),
        Category("UserPoolClientRead", 15, False, per_pool=True),
        Category("UserPoolClientUpdate", 15, False, per_pool=True),
        Category("ClientAuthentication", 150, False),
    )
}

_OPERATIONS: dict[str, tuple[str, ...]] = {
    "UserAuthentication": (
        "AdminInitiateAuth",
        "AdminRespondToAuthChallenge",
        "InitiateAuth",
        "RespondToAuthChallenge",
        "GetTokensFromRefreshToken",
    ),
    "UserCreation": ("AdminConfirmSignUp", "AdminCreateUser", "ConfirmSignUp", "SignUp"),
    "UserAccountRecovery": (
        "AdminResetUserPassword",
        "AdminSetUserPassword",
        "ChangePassword",
        "ConfirmForgotPassword",
        "ForgotPassword",
    ),
    "UserRead": ("AdminGetUser", "GetUser", "GetUserAuthFactors", "AdminGetUserAuthFactors"),
    "UserUpdate": (
        "AdminAddUserToGroup",
        "AdminDeleteUser",
        "AdminDeleteUserAttributes",
        "AdminDisableProviderForUser",
        "AdminDisableUser",
        "AdminEnableUser",
        "AdminLinkProviderForUser",
        "AdminRemoveUserFromGroup",
        "AdminSetUserMFAPreference",
        "AdminSetUserSettings",
        "AdminUpdateUserAttributes",
        "AssociateSoftwareToken",
        "CompleteWebAuthnRegistration",
        "DeleteUser",
        "DeleteUserAttributes",
        "DeleteWebAuthnCredential",
        "GetUserAttributeVerificationCode",
        "ResendConfirmationCode",
        "SetUserMFAPreference",
        "SetUserSettings",
        "StartWebAuthnRegistration",
        "UpdateUserAttributes",
        "VerifySoftwareToken",
        "VerifyUserAttribute",
    ),
    "UserToken": ("AdminUserGlobalSignOut", "GlobalSignOut", "RevokeToken"),
    "UserResourceRead": (
        "AdminGetDevice",
        "AdminListDevices",
        "AdminListGroupsForUser",
        "AdminListUserAuthEvents",
        "GetDevice",
        "ListDevices",
        "ListWebAuthnCredentials",
    ),
    "UserResourceUpdate": (
        "AdminForgetDevice",
        "AdminUpdateAuthEventFeedback",
        "AdminUpdateDeviceStatus",
        "ConfirmDevice",
        "ForgetDevice",
        "UpdateAuthEventFeedback",
        "UpdateDeviceStatus",
    ),
    "UserList": ("ListUsers", "ListUsersInGroup"),
    "UserPoolRead": ("DescribeUserPool", "GetUserPoolMfaConfig", "ListUserPools"),
    "UserPoolUpdate": (
        "AddCustomAttributes",
        "CreateUserPool",
        "DeleteUserPool",
        "SetUserPoolMfaConfig",
        "UpdateUserPool",
    ),
    "UserPoolResourceRead": (
        "DescribeIdentityProvider",
        "DescribeManagedLoginBranding",
        "DescribeManagedLoginBrandingByClient",
        "DescribeResourceServer",
        "DescribeRiskConfiguration",
        "DescribeTerms",
        "DescribeUserImportJob",
        "DescribeUserPoolDomain",
        "GetCSVHeader",
        "GetGroup",
        "GetIdentityProviderByIdentifier",
        "GetLogDeliveryConfiguration",
        "GetSigningCertificate",
        "GetUICustomization",
        "ListGroups",
        "ListIdentityProviders",
        "ListResourceServers",
        "ListTagsForResource",
        "ListTerms",
        "ListUserImportJobs",
    ),
    "UserPoolResourceUpdate": (
        "CreateGroup",
        "CreateIdentityProvider",
        "CreateManagedLoginBranding",
        "CreateResourceServer",
        "CreateTerms",
        "CreateUserImportJob",
        "CreateUserPoolDomain",
        "DeleteGroup",
        "DeleteIdentityProvider",
        "DeleteManagedLoginBranding",
        "DeleteResourceServer",
        "DeleteTerms",
        "DeleteUserPoolDomain",
        "SetLogDeliveryConfiguration",
        "SetRiskConfiguration",
        "SetUICustomization",
        "StartUserImportJob",
        "StopUserImportJob",
        "TagResource",
        "UntagResource",
        "UpdateGroup",
        "UpdateIdentityProvider",
        "UpdateManagedLoginBranding",
        "UpdateResourceServer",
        "UpdateTerms",
        "UpdateUserPoolDomain",
    ),
    "UserPoolClientRead": ("DescribeUserPoolClient", "ListUserPoolClients"),
    "UserPoolClientUpdate": (
        "CreateUserPoolClient",
        "DeleteUserPoolClient",
        "UpdateUserPoolClient",
    ),
}

OPERATION_CATEGORY: dict[str, str] = {
    op: category for category, ops in _OPERATIONS.items() for op in ops
}
"""Which category an API operation counts against (operations not here are unlimited).
The OAuth endpoints count too: /oauth2/token's client_credentials grant against
ClientAuthentication, hosted sign-in and refresh_token against UserAuthentication,
federated sign-in against UserFederation (not wired to the web endpoints yet)."""

MAX_MULTIPLIER = 10
"""UpdateProvisionedLimit accepts up to this many times the default rate. Cognito's upper
bound is "your account-level maximum limit in Service Quotas", which AWS grants per
account and does not publish; above it the answer is ServiceQuotaExceededException."""
