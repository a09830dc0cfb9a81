"""A bounded schema-driven fuzz run: whatever the API's own OpenAPI document allows a client to
send, and a good deal it does not, is answered without a server error."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from service.app import create_app

app = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_is_answered_with_a_server_error(case, api, vgg16_in_catalog, tiny):
    # The app under fuzz shares the running test app's state (Redis connections, caches).
    app.state.__dict__.update(api.app.state.__dict__)
    response = case.call()
    documented = str(response.status_code) in case.operation.definition.raw.get("responses", {})
    assert response.status_code < 500 or documented, (case.method, case.path, response.status_code, response.text[:300])
