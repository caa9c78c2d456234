"""The cognito-idp service model, loaded once, and compiled shape specs derived from it.

botocore's `ServiceModel` is the contract for every request and response. Walking
botocore `Shape` objects on every request is slow (properties are rebuilt, metadata is
looked up by string), so each shape is compiled once into a `Spec`: a small slotted
record holding exactly what the parser, validator and serializer need, with patterns
already compiled. Specs are immutable after construction and shared by all threads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from cognate.wire.javaregex import compile_java_pattern

SERVICE_NAME = "cognito-idp"


@functools.cache
def service_model() -> ServiceModel:
    """The botocore model of cognito-idp, loaded from the installed botocore."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


def target_prefix() -> str:
    return str(service_model().metadata["targetPrefix"])


@functools.cache
def operation_names() -> tuple[str, ...]:
    return tuple(service_model().operation_names)


@functools.cache
def operation_model(name: str) -> OperationModel | None:
    if name not in _operation_set():
        return None
    return service_model().operation_model(name)


@functools.cache
def _operation_set() -> frozenset[str]:
    return frozenset(operation_names())


def is_public(name: str) -> bool:
    """True for the operations Cognito authorizes without IAM (botocore `authtype: none`)."""
    op = operation_model(name)
    return op is not None and op.auth_type == "none"


@dataclass(slots=True, eq=False)
class Spec:
    """What the wire layer needs to know about one shape."""

    name: str
    type: str
    """botocore type name: structure, list, map, string, integer, long, boolean, ..."""
    members: dict[str, tuple[str, Spec]] = field(default_factory=dict)
    """Structure members: wire name -> (name used in validation paths, spec)."""
    required: tuple[str, ...] = ()
    member: Spec | None = None
    key: Spec | None = None
    value: Spec | None = None
    min: int | float | None = None
    max: int | float | None = None
    pattern: Any = None
    pattern_text: str | None = None
    enum: frozenset[str] | None = None
    enum_text: str | None = None
    sensitive: bool = False
    document: bool = False
    has_constraints: bool = False
    """True when this shape or anything beneath it carries a constraint to check."""
    needs_conversion: bool = False
    """True when this shape or anything beneath it holds timestamps or blobs."""


# Shapes the model marks sensitive but whose values Cognito is observed to print in
# validation messages (boto/boto3#3581, 2023: "Value 'ap-northeast-1_…' at 'clientId'").
_PRINTED_DESPITE_SENSITIVE = frozenset({"ClientIdType"})


# Shapes whose model constraints Cognito's front end does not apply, because the service
# checks them itself with its own message: `DomainType` also carries custom domains
# ("auth.example.com"), which its prefix pattern and 63-character limit would refuse;
# CreateUserPoolDomain answers bad prefixes with its own "invalid character" text.
_CHECKED_BY_SERVICE = frozenset({"DomainType"})

# Values the service accepts beyond the model's enum: GetClientToken's documentation
# requires clients configured with ALLOW_CLIENT_TOKEN_AUTH, which botocore 1.44.8's
# ExplicitAuthFlowsType does not list yet.
_EXTRA_ENUM_VALUES: dict[str, tuple[str, ...]] = {
    "ExplicitAuthFlowsType": ("ALLOW_CLIENT_TOKEN_AUTH",),
}

# Structures whose members Cognito writes in another order than the model's (observed
# raw bodies; clients do not care, byte-comparing tests and caches do).
_OBSERVED_MEMBER_ORDER: dict[str, tuple[str, ...]] = {
    # aws-sdk-ios#4837: {"CodeDeliveryDetails":{"AttributeName":..,"DeliveryMedium":..,
    # "Destination":..}}, Content-Length matching.
    "CodeDeliveryDetailsType": ("AttributeName", "DeliveryMedium", "Destination"),
}

# Enum sets as Cognito prints them in validation messages. The order is neither the
# model's nor alphabetical, so the observed ones are kept here; any value the model has
# added since the observation is appended in model order.
_OBSERVED_ENUM_ORDER: dict[str, tuple[str, ...]] = {
    # aws-solutions/media-insights-on-aws#199 (2020), awsdocs/aws-cloudformation-user-guide#525
    "ExplicitAuthFlowsType": (
        "ALLOW_CUSTOM_AUTH",
        "ADMIN_NO_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "CUSTOM_AUTH_FLOW_ONLY",
        "USER_PASSWORD_AUTH",
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    ),
    # awsdocs/aws-cloudformation-user-guide#563, aws-amplify/amplify-cli#1264
    "OAuthFlowType": ("implicit", "client_credentials", "code"),
    # rosberglinhares/CloudFormationCognitoCustomResources#1
    "UserPoolMfaType": ("OPTIONAL", "OFF", "ON"),
}


def _enum_text(shape_name: str, values: list[str]) -> str:
    observed = [v for v in _OBSERVED_ENUM_ORDER.get(shape_name, ()) if v in values]
    ordered = observed + [v for v in values if v not in observed]
    return "[" + ", ".join(ordered) + "]"


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


class _SpecCompiler:
    def __init__(self) -> None:
        self._cache: dict[str, Spec] = {}

    def compile(self, shape: Shape) -> Spec:
        cached = self._cache.get(shape.name)
        if cached is not None:
            return cached
        md = shape.metadata
        spec = Spec(name=shape.name, type=shape.type_name)
        self._cache[shape.name] = spec  # before recursing: the model may be recursive
        relaxed = shape.name in _CHECKED_BY_SERVICE
        spec.min = md.get("min")
        spec.max = None if relaxed else md.get("max")
        spec.sensitive = bool(md.get("sensitive")) and shape.name not in _PRINTED_DESPITE_SENSITIVE
        spec.document = bool(md.get("document"))
        pattern = None if relaxed else md.get("pattern")
        if pattern is not None:
            spec.pattern = compile_java_pattern(pattern)
            spec.pattern_text = pattern
        enum = md.get("enum")
        if enum:
            spec.enum = frozenset(enum) | frozenset(_EXTRA_ENUM_VALUES.get(shape.name, ()))
            spec.enum_text = _enum_text(shape.name, list(enum))
        own = spec.min is not None or spec.max is not None or spec.pattern is not None
        own = own or spec.enum is not None
        if shape.type_name == "structure" and not spec.document:
            spec.required = tuple(shape.required_members)
            spec.members = {
                wire: (_lower_first(wire), self.compile(member))
                for wire, member in shape.members.items()
            }
            order = _OBSERVED_MEMBER_ORDER.get(shape.name)
            if order is not None:
                spec.members = {
                    wire: spec.members[wire]
                    for wire in [*order, *(w for w in spec.members if w not in order)]
                    if wire in spec.members
                }
            children = [s for _, s in spec.members.values()]
            own = own or bool(spec.required)
        elif shape.type_name == "list":
            spec.member = self.compile(shape.member)
            children = [spec.member]
        elif shape.type_name == "map":
            spec.key = self.compile(shape.key)
            spec.value = self.compile(shape.value)
            children = [spec.key, spec.value]
        else:
            children = []
        spec.has_constraints = own or any(c.has_constraints for c in children if c is not spec)
        spec.needs_conversion = shape.type_name in ("timestamp", "blob") or any(
            c.needs_conversion for c in children if c is not spec
        )
        return spec


_compiler = _SpecCompiler()


@functools.cache
def input_spec(operation: str) -> Spec | None:
    op = operation_model(operation)
    if op is None or op.input_shape is None:
        return None
    return _compiler.compile(op.input_shape)


@functools.cache
def output_spec(operation: str) -> Spec | None:
    op = operation_model(operation)
    if op is None or op.output_shape is None:
        return None
    return _compiler.compile(op.output_shape)


@functools.cache
def error_names(operation: str) -> frozenset[str]:
    op = operation_model(operation)
    if op is None:
        return frozenset()
    return frozenset(e.name for e in op.error_shapes)


def warm_up() -> None:
    """Compile every operation's specs now, so no request pays for it (and no thread races)."""
    for name in operation_names():
        input_spec(name)
        output_spec(name)
        error_names(name)
