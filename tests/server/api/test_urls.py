"""URL fields: the served schema states exactly what the server accepts, and refusals of non-public hosts
never tell which address a name resolved to.

Cases: ``shared/cases/faults/schema-webhook-scheme-mismatch``,
``shared/cases/faults/ssrf-error-discloses-internal-dns``.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.settings import Settings
from support import Key, b64, product_jpeg

BODY = {"style": "studio_packshot"}


def served(client: TestClient) -> dict:
    return client.get("/schema/openapi.json").json()["components"]["schemas"]["GenerateRequest"]["properties"]


def string_patterns(prop: dict) -> list[str]:
    return [v["pattern"] for v in prop.get("anyOf", [prop]) if "pattern" in v]


@pytest.fixture
def strict(settings: Settings) -> Settings:
    return replace(settings, allow_private_network=False)


def test_the_cases_webhook_url_is_outside_the_schema_and_refused(strict: Settings, key: Key) -> None:
    with TestClient(create_app(strict)) as client:
        (pattern,) = string_patterns(served(client)["webhook_url"])
        for url in ("a0000://example.com/hook", "ftp://example.com/x", "http://example.com/hook"):
            assert not re.search(pattern, url), url  # https only on an appliance that keeps to public networks
            body = {**BODY, "product_image": b64(product_jpeg()), "webhook_url": url}
            response = client.post("/v1/generate", json=body, headers=key.headers)
            assert response.status_code == 400, url
            assert "https:// URL" in response.json()["message"]
        assert re.search(pattern, "HTTPS://example.com:8443/hooks/paqshot?x=1")
        assert not re.search(pattern, "https://example.com:0/hook")  # no receiver listens on port 0


def _urlish() -> st.SearchStrategy[str]:
    scheme = st.sampled_from(["http", "https", "HTTPS", "ftp", "a0000", ""])
    host = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20) | st.from_regex(
        r"\A[a-z0-9._-]{1,20}\Z"
    )
    port = st.none() | st.integers(-1, 99999).map(str) | st.text(max_size=3)
    tail = st.text(max_size=30)
    return st.builds(
        lambda s, h, p, t: f"{s}://{h}{'' if p is None else ':' + p}{t}", scheme, host, port, tail
    ) | st.text(max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(url=_urlish())
def test_schema_pattern_and_server_agree_on_every_url(url: str) -> None:
    """What the served pattern accepts, the server's URL check accepts, and the other way round."""
    # Imported here (as below): the module's case tests must also run against the code before the fix.
    from paqshot_server.api.request_bodies import url_field_pattern
    from paqshot_server.net.fetch import split_url
    from paqshot_server.net.urls import url_shape_error

    for schemes in (("https",), ("http", "https")):
        by_schema = bool(re.search(url_field_pattern(schemes), url)) and len(url) <= 2048
        by_server = url_shape_error(url, schemes) is None
        assert by_schema == by_server, url
        if by_server:
            scheme, host, port = split_url(url, schemes=schemes)  # never raises for a URL of this shape
            assert scheme in schemes and host and 1 <= port <= 65535  # port 0 reaches nothing: refused


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_urls_drawn_from_the_served_patterns_are_never_refused_for_their_shape(
    data: st.DataObject, client: TestClient
) -> None:
    from paqshot_server.net.fetch import split_url

    props = served(client)
    for field, schemes in (("webhook_url", ("http", "https")), ("product_image", ("http", "https"))):
        for pattern in string_patterns(props[field]):
            if "://" not in pattern.replace("\\", ""):
                continue  # product_image's base64 form
            url = data.draw(st.from_regex(pattern), label=field)
            if len(url) <= 2048:
                split_url(url, schemes=schemes)


@pytest.mark.parametrize("field", ["product_image", "webhook_url"])
def test_refusal_of_an_internal_name_does_not_disclose_its_address(strict: Settings, key: Key, field: str) -> None:
    answers = {}
    with TestClient(create_app(strict)) as client:
        for host in ("localhost", "no-such-host.invalid"):
            url = f"https://{host}/x.png"
            body = {**BODY, "product_image": b64(product_jpeg()), field: url}
            response = client.post("/v1/generate", json=body, headers=key.headers)
            assert response.status_code == 400
            message = response.json()["message"]
            assert "127.0.0.1" not in message and "::1" not in message, message
            answers[host] = message.replace(host, "HOST")
    # An internal name and a name that does not exist read the same: no DNS oracle, not even one bit.
    assert answers["localhost"] == answers["no-such-host.invalid"]


def test_rules_across_fields_in_the_schema_match_the_server(client: TestClient) -> None:
    """GenerateRequest's if/then rules say exactly which style/shadow/num_variants combinations the catalog
    refuses: every combination is valid by the schema exactly when check_options accepts it."""
    import itertools

    import jsonschema_rs  # the validator schemathesis itself uses
    from paqshot_server.catalog import EngineCatalog
    from paqshot_server.errors import InvalidRequest
    from paqshot_server.imaging.options import MAX_VARIANTS, SHADOWS, STYLES, RenderOptions

    doc = client.get("/schema/openapi.json").json()
    rules = {"allOf": doc["components"]["schemas"]["GenerateRequest"]["allOf"]}
    for style, shadow, variants in itertools.product(STYLES, SHADOWS, range(1, MAX_VARIANTS + 1)):
        by_schema = jsonschema_rs.Draft202012Validator(rules).is_valid(
            {"style": style, "shadow": shadow, "num_variants": variants}
        )
        try:
            EngineCatalog.check_options(RenderOptions(style=style, shadow=shadow, num_variants=variants))
            by_server = True
        except InvalidRequest:
            by_server = False
        assert by_schema == by_server, (style, shadow, variants)


def test_an_ipv6_literal_url_is_refused_saying_why(settings: Settings, key: Key) -> None:
    # breaker, session 5: "http://[2001:4860:4860::8888]/x.jpg" was told only that the URL must be printable ASCII
    # (it is): the message must name what is not accepted and what to do instead
    with TestClient(create_app(settings)) as client:
        for field in ("product_image", "webhook_url"):
            body = {**BODY, "product_image": b64(product_jpeg()), field: "http://[2001:4860:4860::8888]/x.jpg"}
            response = client.post("/v1/generate", json=body, headers=key.headers)
            assert response.status_code == 400, field
            message = response.json()["message"]
            assert "IPv6 address" in message and "use a host name" in message, message
