"""Hosted UI (classic) customization, managed login branding styles and terms documents.

SetUICustomization / GetUICustomization (pool-wide "ALL" and per-client, Cognito's CSS
rules, the logo served at ImageUrl), the five ManagedLoginBranding operations (one style per
client, defaults, merged updates, assets) and the six Terms operations (one document of
each name per client, ListTerms paging), with boto3.
"""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.support.auth import error, new_client, new_pool
from tests.support.server import CognateServer

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
CSS = """
/* the banner */
.banner-customizable { padding: 25px 0px; background-color: lightgray; }
.submitButton-customizable, .submitButton-customizable:hover { color: #fff; }
.passwordCheck-notValid-customizable { color: #DF3312; }
"""


def png(width: int = 1, height: int = 1, padding: int = 0) -> bytes:
    """A valid PNG image (with an optional text chunk to make it bigger)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    text = chunk(b"tEXt", b"pad\x00" + b"x" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + text
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
ICO = b"\x00\x00\x01\x00\x01\x00" + b"\x00" * 16


@pytest.fixture
def pool_id(cognito: Any) -> str:
    return new_pool(cognito, "branding")


@pytest.fixture
def client_id(cognito: Any, pool_id: str) -> str:
    return str(new_client(cognito, pool_id)["ClientId"])


def with_domain(cognito: Any, pool_id: str) -> None:
    cognito.create_user_pool_domain(Domain=f"brand-{uuid.uuid4().hex[:12]}", UserPoolId=pool_id)


# ---------------------------------------------------------------- hosted UI (classic)


def test_ui_customization_needs_a_domain(cognito: Any, pool_id: str) -> None:
    with pytest.raises(ClientError) as exc:
        cognito.set_ui_customization(UserPoolId=pool_id, ClientId="ALL", CSS=CSS)
    assert error(exc) == (
        "InvalidParameterException",
        "A domain must be associated with this user pool.",
    )


def test_pool_wide_customization_applies_to_clients_without_their_own(
    cognito: Any, pool_id: str, client_id: str
) -> None:
    with_domain(cognito, pool_id)
    empty = cognito.get_ui_customization(UserPoolId=pool_id)["UICustomization"]
    assert empty == {"UserPoolId": pool_id, "ClientId": "ALL"}

    logo = png()
    pool_wide = cognito.set_ui_customization(
        UserPoolId=pool_id, ClientId="ALL", CSS=CSS, ImageFile=logo
    )["UICustomization"]
    assert pool_wide["UserPoolId"] == pool_id
    assert pool_wide["ClientId"] == "ALL"
    assert pool_wide["CSS"] == CSS
    assert re.fullmatch(r"\d{14}", pool_wide["CSSVersion"])
    assert pool_wide["ImageUrl"].endswith(f"/{pool_id}/ALL/{pool_wide['CSSVersion']}.png")
    assert pool_wide["CreationDate"] == pool_wide["LastModifiedDate"]

    # A client without its own customization gets the pool's, as the pool's.
    inherited = cognito.get_ui_customization(UserPoolId=pool_id, ClientId=client_id)
    assert inherited["UICustomization"] == pool_wide

    own_css = ".logo-customizable { max-width: 60%; }"
    own = cognito.set_ui_customization(UserPoolId=pool_id, ClientId=client_id, CSS=own_css)[
        "UICustomization"
    ]
    assert own["ClientId"] == client_id
    assert own["CSS"] == own_css
    assert "ImageUrl" not in own  # no merging with the pool-wide logo
    got = cognito.get_ui_customization(UserPoolId=pool_id, ClientId=client_id)
    assert got["UICustomization"] == own
    assert cognito.get_ui_customization(UserPoolId=pool_id)["UICustomization"] == pool_wide


def test_set_replaces_css_and_image_together_and_keeps_creation_date(
    cognito: Any, pool_id: str
) -> None:
    with_domain(cognito, pool_id)
    first = cognito.set_ui_customization(UserPoolId=pool_id, CSS=CSS, ImageFile=png())[
        "UICustomization"
    ]
    second = cognito.set_ui_customization(UserPoolId=pool_id, ImageFile=JPEG)["UICustomization"]
    assert second["ClientId"] == "ALL"  # no ClientId: the pool-wide customization
    assert "CSS" not in second
    assert second["ImageUrl"].endswith(".jpg")
    assert second["CreationDate"] == first["CreationDate"]
    assert second["LastModifiedDate"] >= first["LastModifiedDate"]


def test_logo_is_served_at_its_image_url(
    cognito: Any, pool_id: str, client_id: str, server: CognateServer
) -> None:
    with_domain(cognito, pool_id)
    logo = png(2, 2)
    first = cognito.set_ui_customization(UserPoolId=pool_id, ClientId=client_id, ImageFile=logo)
    url = first["UICustomization"]["ImageUrl"]
    assert url.startswith(server.endpoint + "/")
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == logo

    replaced = cognito.set_ui_customization(UserPoolId=pool_id, ClientId=client_id, ImageFile=JPEG)[
        "UICustomization"
    ]["ImageUrl"]
    fetched = requests.get(replaced, timeout=10)
    assert (fetched.status_code, fetched.headers["content-type"]) == (200, "image/jpeg")
    assert fetched.content == JPEG
    assert requests.get(url, timeout=10).status_code == 404  # only the current logo
    missing = f"{server.endpoint}/_cognate/assets/{pool_id}/nosuchclient/20200101000000.png"
    assert requests.get(missing, timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("css", "reason"),
    [
        (".not-a-cognito-class { color: red; }", ".not-a-cognito-class"),
        ("div { color: red; }", "div"),
        (".label-customizable > span { color: red; }", ".label-customizable > span"),
        ("@media screen { .label-customizable { color: red; } }", "@media"),
        ("@import url(https://example.com/x.css);", "@import"),
        (".label-customizable { background: url(javascript:alert(1)); }", "javascript:"),
        (".label-customizable { color: red; ", "parsed"),
    ],
)
def test_css_outside_cognitos_rules_is_rejected(
    cognito: Any, pool_id: str, css: str, reason: str
) -> None:
    with_domain(cognito, pool_id)
    with pytest.raises(ClientError) as exc:
        cognito.set_ui_customization(UserPoolId=pool_id, CSS=css)
    code, message = error(exc)
    assert code == "InvalidParameterException"
    assert reason in message


def test_logo_must_be_a_png_or_jpeg_of_at_most_100_kb(cognito: Any, pool_id: str) -> None:
    with_domain(cognito, pool_id)
    with pytest.raises(ClientError) as exc:
        cognito.set_ui_customization(UserPoolId=pool_id, ImageFile=b"GIF89a" + b"\x00" * 20)
    assert error(exc) == (
        "InvalidParameterException",
        "The image file must be a PNG or JPEG image.",
    )
    big = png(padding=100 * 1024)
    assert 100 * 1024 < len(big) <= 131072
    with pytest.raises(ClientError) as exc:
        cognito.set_ui_customization(UserPoolId=pool_id, ImageFile=big)
    assert error(exc)[0] == "InvalidParameterException"
    at_limit = png(padding=100 * 1024 - len(png(padding=1)) + 1)
    assert len(at_limit) == 100 * 1024
    assert cognito.set_ui_customization(UserPoolId=pool_id, ImageFile=at_limit)


def test_css_longer_than_the_model_allows_is_rejected(raw: Any, cognito: Any, pool_id: str) -> None:
    with_domain(cognito, pool_id)
    with pytest.raises(ClientError) as exc:
        raw.set_ui_customization(UserPoolId=pool_id, CSS="/*" + "x" * 131072 + "*/")
    assert error(exc)[0] == "InvalidParameterException"


def test_ui_customization_unknown_pool_or_client(cognito: Any, pool_id: str) -> None:
    with_domain(cognito, pool_id)
    with pytest.raises(ClientError) as exc:
        cognito.set_ui_customization(UserPoolId=pool_id, ClientId="nosuchclient", CSS=CSS)
    assert error(exc) == (
        "ResourceNotFoundException",
        "User pool client nosuchclient does not exist.",
    )
    with pytest.raises(ClientError) as exc:
        cognito.get_ui_customization(UserPoolId=pool_id, ClientId="nosuchclient")
    assert error(exc)[0] == "ResourceNotFoundException"
    missing_pool = pool_id.split("_")[0] + "_nosuchpool"
    with pytest.raises(ClientError) as exc:
        cognito.get_ui_customization(UserPoolId=missing_pool)
    assert error(exc) == ("ResourceNotFoundException", f"User pool {missing_pool} does not exist.")


# ---------------------------------------------------------------- managed login branding


def test_style_with_cognito_defaults(cognito: Any, pool_id: str, client_id: str) -> None:
    created = cognito.create_managed_login_branding(
        UserPoolId=pool_id, ClientId=client_id, UseCognitoProvidedValues=True
    )["ManagedLoginBranding"]
    branding_id = created["ManagedLoginBrandingId"]
    assert UUID4.match(branding_id)
    assert created["UserPoolId"] == pool_id
    assert created["UseCognitoProvidedValues"] is True
    assert created["Assets"] == []
    assert "Settings" not in created
    assert created["CreationDate"] == created["LastModifiedDate"]

    described = cognito.describe_managed_login_branding(
        UserPoolId=pool_id, ManagedLoginBrandingId=branding_id
    )["ManagedLoginBranding"]
    assert described == created
    merged = cognito.describe_managed_login_branding(
        UserPoolId=pool_id, ManagedLoginBrandingId=branding_id, ReturnMergedResources=True
    )["ManagedLoginBranding"]
    assert set(merged["Settings"]["categories"]) >= {"auth", "form", "global"}
    by_client = cognito.describe_managed_login_branding_by_client(
        UserPoolId=pool_id, ClientId=client_id
    )["ManagedLoginBranding"]
    assert by_client == created

    with pytest.raises(ClientError) as exc:
        cognito.create_managed_login_branding(
            UserPoolId=pool_id, ClientId=client_id, UseCognitoProvidedValues=True
        )
    assert error(exc)[0] == "ManagedLoginBrandingExistsException"


def test_style_settings_and_assets(
    cognito: Any, pool_id: str, client_id: str, server: CognateServer
) -> None:
    logo = png()
    settings = {"components": {"primaryButton": {"lightMode": {"defaults": {"textColor": "1"}}}}}
    created = cognito.create_managed_login_branding(
        UserPoolId=pool_id,
        ClientId=client_id,
        Settings=settings,
        Assets=[
            {"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "PNG", "Bytes": logo},
            {"Category": "FAVICON_SVG", "ColorMode": "DYNAMIC", "Extension": "SVG", "Bytes": SVG},
        ],
    )["ManagedLoginBranding"]
    assert created["UseCognitoProvidedValues"] is False
    assert created["Settings"] == settings
    assets = {a["Category"]: a for a in created["Assets"]}
    assert assets["FORM_LOGO"]["Bytes"] == logo
    assert assets["FAVICON_SVG"]["Bytes"] == SVG
    assert all(re.fullmatch(r"[\w\- ]{1,40}", a["ResourceId"]) for a in created["Assets"])

    merged = cognito.describe_managed_login_branding_by_client(
        UserPoolId=pool_id, ClientId=client_id, ReturnMergedResources=True
    )["ManagedLoginBranding"]["Settings"]
    button = merged["components"]["primaryButton"]["lightMode"]["defaults"]
    assert button["textColor"] == "1"  # the style's value over the default
    assert "backgroundColor" in button  # the default kept
    assert "categories" in merged

    branding_id = created["ManagedLoginBrandingId"]
    form_logo = assets["FORM_LOGO"]
    url = (
        f"{server.endpoint}/_cognate/branding/{pool_id}/{branding_id}/{form_logo['ResourceId']}.png"
    )
    served = requests.get(url, timeout=10)
    assert (served.status_code, served.headers["content-type"]) == (200, "image/png")
    assert served.content == logo


def test_update_keeps_what_it_is_not_given(cognito: Any, pool_id: str, client_id: str) -> None:
    logo = png()
    created = cognito.create_managed_login_branding(
        UserPoolId=pool_id,
        ClientId=client_id,
        Settings={"a": {"x": 1, "y": 2}, "b": [1, 2]},
        Assets=[{"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "PNG", "Bytes": logo}],
    )["ManagedLoginBranding"]
    branding_id = created["ManagedLoginBrandingId"]
    light_id = created["Assets"][0]["ResourceId"]

    updated = cognito.update_managed_login_branding(
        UserPoolId=pool_id,
        ManagedLoginBrandingId=branding_id,
        Settings={"a": {"y": 3}, "b": [3]},
        Assets=[{"Category": "FORM_LOGO", "ColorMode": "DARK", "Extension": "JPEG", "Bytes": JPEG}],
    )["ManagedLoginBranding"]
    assert updated["Settings"] == {"a": {"x": 1, "y": 3}, "b": [3]}
    assert {(a["ColorMode"], a["Bytes"]) for a in updated["Assets"]} == {
        ("LIGHT", logo),
        ("DARK", JPEG),
    }
    assert updated["CreationDate"] == created["CreationDate"]

    # An asset named by its ResourceId alone keeps its bytes.
    again = cognito.update_managed_login_branding(
        UserPoolId=pool_id,
        ManagedLoginBrandingId=branding_id,
        Assets=[
            {
                "Category": "FORM_LOGO",
                "ColorMode": "LIGHT",
                "Extension": "PNG",
                "ResourceId": light_id,
            }
        ],
    )["ManagedLoginBranding"]
    light = next(a for a in again["Assets"] if a["ColorMode"] == "LIGHT")
    assert (light["ResourceId"], light["Bytes"]) == (light_id, logo)
    assert again["Settings"] == updated["Settings"]

    reset = cognito.update_managed_login_branding(
        UserPoolId=pool_id, ManagedLoginBrandingId=branding_id, UseCognitoProvidedValues=True
    )["ManagedLoginBranding"]
    assert reset["UseCognitoProvidedValues"] is True
    assert reset["Assets"] == []
    assert "Settings" not in reset


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        ({"UseCognitoProvidedValues": True, "Settings": {"a": 1}}, "UseCognitoProvidedValues"),
        ({"Settings": ["not", "an", "object"]}, "JSON object"),
        (
            {
                "Assets": [
                    {"Category": "FAVICON_ICO", "ColorMode": "LIGHT", "Extension": "PNG"}
                    | {"Bytes": png()}
                ]
            },
            "FAVICON_ICO",
        ),
        (
            {
                "Assets": [
                    {"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "PNG"}
                    | {"Bytes": JPEG}
                ]
            },
            "PNG",
        ),
        (
            {
                "Assets": [
                    {"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "PNG"}
                    | {"Bytes": png()},
                    {"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "SVG"}
                    | {"Bytes": SVG},
                ]
            },
            "Duplicate",
        ),
        (
            {"Assets": [{"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "PNG"}]},
            "Bytes",
        ),
        (
            {
                "Assets": [
                    {"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "PNG"}
                    | {"ResourceId": "nosuchasset"}
                ]
            },
            "nosuchasset",
        ),
    ],
)
def test_invalid_styles_are_rejected(
    cognito: Any, pool_id: str, client_id: str, request_: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ClientError) as exc:
        cognito.create_managed_login_branding(UserPoolId=pool_id, ClientId=client_id, **request_)
    code, message = error(exc)
    assert code == "InvalidParameterException"
    assert fragment in message
    with pytest.raises(ClientError) as exc:
        cognito.describe_managed_login_branding_by_client(UserPoolId=pool_id, ClientId=client_id)
    assert error(exc)[0] == "ResourceNotFoundException"  # nothing was created


def test_icon_assets(cognito: Any, pool_id: str, client_id: str) -> None:
    created = cognito.create_managed_login_branding(
        UserPoolId=pool_id,
        ClientId=client_id,
        Assets=[
            {"Category": "FAVICON_ICO", "ColorMode": "LIGHT", "Extension": "ICO", "Bytes": ICO}
        ],
    )["ManagedLoginBranding"]
    assert created["Assets"][0]["Bytes"] == ICO


def test_delete_style_and_not_found_cases(cognito: Any, pool_id: str, client_id: str) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(ClientError) as exc:
        cognito.describe_managed_login_branding(UserPoolId=pool_id, ManagedLoginBrandingId=missing)
    assert error(exc) == (
        "ResourceNotFoundException",
        f"Managed login branding {missing} does not exist.",
    )
    with pytest.raises(ClientError) as exc:
        cognito.describe_managed_login_branding_by_client(UserPoolId=pool_id, ClientId="nosuch")
    assert error(exc) == ("ResourceNotFoundException", "User pool client nosuch does not exist.")
    with pytest.raises(ClientError) as exc:
        cognito.create_managed_login_branding(
            UserPoolId=pool_id, ClientId="nosuch", UseCognitoProvidedValues=True
        )
    assert error(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        cognito.update_managed_login_branding(
            UserPoolId=pool_id, ManagedLoginBrandingId=missing, Settings={}
        )
    assert error(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        cognito.update_managed_login_branding(UserPoolId=pool_id, Settings={})
    assert error(exc) == ("InvalidParameterException", "ManagedLoginBrandingId is required.")

    branding_id = cognito.create_managed_login_branding(
        UserPoolId=pool_id, ClientId=client_id, UseCognitoProvidedValues=True
    )["ManagedLoginBranding"]["ManagedLoginBrandingId"]
    other_pool = new_pool(cognito, "other")
    with pytest.raises(ClientError) as exc:  # a style is found only in its own pool
        cognito.describe_managed_login_branding(
            UserPoolId=other_pool, ManagedLoginBrandingId=branding_id
        )
    assert error(exc)[0] == "ResourceNotFoundException"

    cognito.delete_managed_login_branding(UserPoolId=pool_id, ManagedLoginBrandingId=branding_id)
    with pytest.raises(ClientError) as exc:
        cognito.describe_managed_login_branding(
            UserPoolId=pool_id, ManagedLoginBrandingId=branding_id
        )
    assert error(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        cognito.delete_managed_login_branding(
            UserPoolId=pool_id, ManagedLoginBrandingId=branding_id
        )
    assert error(exc)[0] == "ResourceNotFoundException"
    # The client can have a style again.
    assert (
        cognito.create_managed_login_branding(
            UserPoolId=pool_id, ClientId=client_id, UseCognitoProvidedValues=True
        )["ManagedLoginBranding"]["ManagedLoginBrandingId"]
        != branding_id
    )


def test_deleting_the_client_deletes_its_style_and_terms(
    cognito: Any, pool_id: str, client_id: str
) -> None:
    branding_id = cognito.create_managed_login_branding(
        UserPoolId=pool_id, ClientId=client_id, UseCognitoProvidedValues=True
    )["ManagedLoginBranding"]["ManagedLoginBrandingId"]
    terms_id = create_terms(cognito, pool_id, client_id)["TermsId"]
    cognito.delete_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    with pytest.raises(ClientError) as exc:
        cognito.describe_managed_login_branding(
            UserPoolId=pool_id, ManagedLoginBrandingId=branding_id
        )
    assert error(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        cognito.describe_terms(UserPoolId=pool_id, TermsId=terms_id)
    assert error(exc)[0] == "ResourceNotFoundException"
    assert cognito.list_terms(UserPoolId=pool_id)["Terms"] == []


# ---------------------------------------------------------------- terms


LINKS = {"cognito:default": "https://example.com/terms", "cognito:french": "https://example.fr/t"}


def create_terms(
    cognito: Any, pool_id: str, client_id: str, name: str = "terms-of-use", **kwargs: Any
) -> dict[str, Any]:
    terms: dict[str, Any] = cognito.create_terms(
        UserPoolId=pool_id,
        ClientId=client_id,
        TermsName=name,
        TermsSource="LINK",
        Enforcement="NONE",
        Links=kwargs.pop("Links", LINKS),
        **kwargs,
    )["Terms"]
    return terms


def test_terms_lifecycle(cognito: Any, pool_id: str, client_id: str) -> None:
    created = create_terms(cognito, pool_id, client_id)
    assert UUID4.match(created["TermsId"])
    assert {k: v for k, v in created.items() if k not in ("CreationDate", "LastModifiedDate")} == {
        "TermsId": created["TermsId"],
        "UserPoolId": pool_id,
        "ClientId": client_id,
        "TermsName": "terms-of-use",
        "TermsSource": "LINK",
        "Enforcement": "NONE",
        "Links": LINKS,
    }
    assert created["CreationDate"] == created["LastModifiedDate"]
    terms_id = created["TermsId"]
    assert cognito.describe_terms(UserPoolId=pool_id, TermsId=terms_id)["Terms"] == created
    by_client = cognito.describe_terms_by_client(
        UserPoolId=pool_id, ClientId=client_id, TermsName="terms-of-use"
    )["Terms"]
    assert by_client == created

    with pytest.raises(ClientError) as exc:
        create_terms(cognito, pool_id, client_id)
    assert error(exc) == (
        "TermsExistsException",
        "Terms with name terms-of-use already exist for this app client.",
    )
    privacy = create_terms(cognito, pool_id, client_id, "privacy-policy")
    other_client = new_client(cognito, pool_id)["ClientId"]
    assert create_terms(cognito, pool_id, other_client)["ClientId"] == other_client

    new_links = {"cognito:english": "https://example.com/en"}
    updated = cognito.update_terms(UserPoolId=pool_id, TermsId=terms_id, Links=new_links)["Terms"]
    assert updated["Links"] == new_links
    assert updated["TermsName"] == "terms-of-use"
    assert updated["CreationDate"] == created["CreationDate"]
    with pytest.raises(ClientError) as exc:  # the client already has a privacy policy
        cognito.update_terms(UserPoolId=pool_id, TermsId=terms_id, TermsName="privacy-policy")
    assert error(exc)[0] == "TermsExistsException"

    cognito.delete_terms(UserPoolId=pool_id, TermsId=privacy["TermsId"])
    with pytest.raises(ClientError) as exc:
        cognito.describe_terms(UserPoolId=pool_id, TermsId=privacy["TermsId"])
    assert error(exc) == (
        "ResourceNotFoundException",
        f"Terms {privacy['TermsId']} does not exist.",
    )
    renamed = cognito.update_terms(
        UserPoolId=pool_id, TermsId=terms_id, TermsName="privacy-policy"
    )["Terms"]
    assert (renamed["TermsName"], renamed["Links"]) == ("privacy-policy", new_links)
    with pytest.raises(ClientError) as exc:
        cognito.describe_terms_by_client(
            UserPoolId=pool_id, ClientId=client_id, TermsName="terms-of-use"
        )
    assert error(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        cognito.delete_terms(UserPoolId=pool_id, TermsId=privacy["TermsId"])
    assert error(exc)[0] == "ResourceNotFoundException"


def test_terms_errors(cognito: Any, raw: Any, pool_id: str, client_id: str) -> None:
    with pytest.raises(ClientError) as exc:
        create_terms(cognito, pool_id, "nosuchclient")
    assert error(exc) == (
        "ResourceNotFoundException",
        "User pool client nosuchclient does not exist.",
    )
    with pytest.raises(ClientError) as exc:
        cognito.create_terms(
            UserPoolId=pool_id,
            ClientId=client_id,
            TermsName="terms-of-use",
            TermsSource="LINK",
            Enforcement="NONE",
        )
    assert error(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:  # the model's language keys only
        create_terms(cognito, pool_id, client_id, Links={"english": "https://example.com"})
    assert error(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        raw.create_terms(
            UserPoolId=pool_id,
            ClientId=client_id,
            TermsName="cookies",
            TermsSource="LINK",
            Enforcement="NONE",
            Links=LINKS,
        )
    assert error(exc)[0] == "InvalidParameterException"
    missing = str(uuid.uuid4())
    for call in (
        lambda: cognito.describe_terms(UserPoolId=pool_id, TermsId=missing),
        lambda: cognito.update_terms(UserPoolId=pool_id, TermsId=missing, Links=LINKS),
        lambda: cognito.delete_terms(UserPoolId=pool_id, TermsId=missing),
        lambda: cognito.describe_terms_by_client(
            UserPoolId=pool_id, ClientId="nosuchclient", TermsName="terms-of-use"
        ),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc)[0] == "ResourceNotFoundException"
    assert cognito.list_terms(UserPoolId=pool_id)["Terms"] == []


def test_list_terms_pages(cognito: Any, pool_id: str) -> None:
    created = []
    for _ in range(3):
        client_id = new_client(cognito, pool_id)["ClientId"]
        for name in ("terms-of-use", "privacy-policy"):
            created.append(create_terms(cognito, pool_id, client_id, name))

    first = cognito.list_terms(UserPoolId=pool_id, MaxResults=4)
    assert len(first["Terms"]) == 4
    assert set(first["Terms"][0]) == {
        "TermsId",
        "TermsName",
        "Enforcement",
        "CreationDate",
        "LastModifiedDate",
    }
    second = cognito.list_terms(UserPoolId=pool_id, MaxResults=4, NextToken=first["NextToken"])
    assert len(second["Terms"]) == 2
    assert "NextToken" not in second
    listed = [t["TermsId"] for t in first["Terms"] + second["Terms"]]
    assert listed == [t["TermsId"] for t in created]
    everything = cognito.list_terms(UserPoolId=pool_id)
    assert [t["TermsId"] for t in everything["Terms"]] == listed
    assert "NextToken" not in everything

    other_pool = new_pool(cognito, "other")
    with pytest.raises(ClientError) as exc:  # a token belongs to its pool's listing
        cognito.list_terms(UserPoolId=other_pool, NextToken=first["NextToken"])
    assert error(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        cognito.list_terms(UserPoolId=pool_id.split("_")[0] + "_nosuchpool")
    assert error(exc)[0] == "ResourceNotFoundException"
