"""The read-only plan API: authentication, filters and clean 4xx errors."""

import pytest
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

ENDPOINTS = ["plans", "initiatives", "measures", "units", "regions", "targets"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_anonymous_users_are_refused(api_client, name):
    response = api_client.get(f"/api/v1/{name}/")
    assert response.status_code in (401, 403)
    assert "detail" in response.json()


def test_token_endpoint_returns_a_token_that_authenticates(api_client, reporter):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "jyt-reporter", "password": "pw-for-tests-1"}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/targets/").status_code == 200


def test_token_endpoint_refuses_a_wrong_password(api_client, reporter):
    response = api_client.post("/api/v1/auth/token/", {"username": "jyt-reporter", "password": "wrong"})
    assert response.status_code == 400


def test_a_revoked_token_no_longer_works(api_client, reporter):
    token = Token.objects.create(user=reporter)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/units/").status_code == 200
    token.delete()
    assert api_client.get("/api/v1/units/").status_code == 401


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_list_answers_a_logged_in_user(api_client, viewer, name):
    api_client.force_authenticate(viewer)
    response = api_client.get(f"/api/v1/{name}/")
    assert response.status_code == 200
    assert response.json()["count"] > 0


def test_targets_carry_their_rule_and_sources(api_client, viewer):
    api_client.force_authenticate(viewer)
    rows = api_client.get("/api/v1/targets/", {"initiative": "A3"}).json()["results"]
    training = next(r for r in rows if "补贴性" in r["name"])
    assert training["combine"] == "increment"
    assert float(training["value"]) == 500000
    assert len(training["sources"]) == 2
    assert training["owner_unit"] == "rst"


def test_filters_narrow_the_list(api_client, viewer):
    api_client.force_authenticate(viewer)
    assert api_client.get("/api/v1/initiatives/", {"kind": "action"}).json()["count"] == 6
    assert api_client.get("/api/v1/measures/", {"initiative": "A1"}).json()["count"] == 6
    assert api_client.get("/api/v1/regions/", {"level": "county"}).json()["count"] == 44
    assert api_client.get("/api/v1/regions/", {"parent": "630100"}).json()["count"] == 7
    assert api_client.get("/api/v1/units/", {"kind": "local_government"}).json()["count"] == 52
    per_region = api_client.get("/api/v1/targets/", {"per_region": "true"}).json()["count"]
    assert per_region >= 3
    # 省科协 is an office member, so "all member units" initiatives count for it.
    kx = {
        r["code"]
        for r in api_client.get("/api/v1/initiatives/", {"unit": "kx", "limit": 50}).json()["results"]
    }
    assert {"A1", "A6", "P4", "P7"} <= kx


def test_unknown_filter_is_a_400_with_a_json_message(api_client, viewer):
    api_client.force_authenticate(viewer)
    response = api_client.get("/api/v1/targets/", {"colour": "red"})
    assert response.status_code == 400
    assert response.json()["unknown"] == ["colour"]


def test_invalid_filter_value_is_a_400(api_client, viewer):
    api_client.force_authenticate(viewer)
    response = api_client.get("/api/v1/targets/", {"combine": "sum"})
    assert response.status_code == 400
    assert "combine" in response.json()


@pytest.mark.parametrize("url", ["/api/v1/targets/999999/", "/api/v1/targets/abc/", "/api/v1/units/nope/"])
def test_bad_ids_are_404_json(api_client, viewer, url):
    api_client.force_authenticate(viewer)
    response = api_client.get(url)
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_to_the_plan_are_405(api_client, office, method):
    api_client.force_authenticate(office)
    response = getattr(api_client, method)("/api/v1/targets/", {})
    assert response.status_code == 405
    assert "detail" in response.json()


def test_list_queries_do_not_grow_with_rows(api_client, viewer, django_assert_max_num_queries):
    api_client.force_authenticate(viewer)
    with django_assert_max_num_queries(8):
        assert api_client.get("/api/v1/targets/").status_code == 200
    with django_assert_max_num_queries(8):
        assert api_client.get("/api/v1/initiatives/").status_code == 200
    with django_assert_max_num_queries(5):
        assert api_client.get("/api/v1/units/").status_code == 200


def test_openapi_schema_and_docs_are_served_locally(client, viewer):
    client.force_login(viewer)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/targets/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "//unpkg" not in html and "jsdelivr" not in html
    assert "/static/drf_spectacular_sidecar/" in html
