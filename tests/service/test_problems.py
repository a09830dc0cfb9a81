"""Bad input gets a clear 4xx problem naming the field, never a 500, and harms nothing stored."""

from __future__ import annotations

import json

import pytest

from core.errors import FilterscopeError
from core.store import keys
from service.problems import STATUS
from tests.helpers import request

VALID = {"model": "vgg16-hed", "layer": "block3_conv1", "filters": [0], "params": {"steps": 5, "image_size": 16}}


def changed(**fields):
    body = json.loads(json.dumps(VALID))
    for name, value in fields.items():
        target, _, leaf = name.rpartition("__")
        (body["params"] if target == "params" else body)[leaf] = value
    return body


def stored_keys(redis) -> set[bytes]:
    """Every key but the rate limiter's, which counts every state-changing request."""
    return {key for key in redis.keys() if not key.startswith(keys.LIMITS.encode())}


def without(field: str) -> dict:
    return {k: v for k, v in VALID.items() if k != field}


BAD_INPUTS = [
    # (case, body or raw bytes, content type, status, field, words the reason must contain)
    ("unknown model", changed(model="resnet-9000"), None, 422, "model", "vgg16-hed"),
    ("unknown layer", changed(layer="block9_conv1"), None, 422, "layer", "block5_conv3"),
    ("filter out of range", changed(filters=[0, 256]), None, 422, "filters[1]", "256 filters"),
    ("negative filter", changed(filters=[-1]), None, 422, "filters", "non-negative"),
    ("duplicate filters", changed(filters=[3, 3]), None, 422, "filters", "distinct"),
    ("no filters", changed(filters=[]), None, 422, "filters", "at least 1"),
    ("too many filters", changed(filters=list(range(257))), None, 422, "filters", "at most 256"),
    ("filters not a list", changed(filters=3), None, 422, "filters", "list"),
    ("filter not an integer", changed(filters=["1"]), None, 422, "filters[0]", "integer"),
    ("zero steps", changed(params__steps=0), None, 422, "params.steps", "greater than or equal to 1"),
    ("too many steps", changed(params__steps=4097), None, 422, "params.steps", "4096"),
    ("image too small", changed(params__image_size=15), None, 422, "params.image_size", "16"),
    ("image too large", changed(params__image_size=513), None, 422, "params.image_size", "512"),
    ("negative learning rate", changed(params__learning_rate=-0.1), None, 422, "params.learning_rate", "greater than 0"),
    ("unknown method", changed(params__method="magic"), None, 422, "params.method", "fourier"),
    ("seed not an integer", changed(params__seed="7"), None, 422, "params.seed", "integer"),
    ("transforms not a boolean", changed(params__transforms="yes"), None, 422, "params.transforms", "boolean"),
    ("misspelt param", changed(params__stpes=10), None, 422, "params.stpes", "unknown field"),
    ("unknown top-level field", changed(colour="red"), None, 422, "colour", "unknown field"),
    ("missing layer", without("layer"), None, 422, "layer", "missing"),
    ("body not an object", [1, 2], None, 422, "body", "dictionary"),
    ("unknown objective", changed(params__objective="max"), None, 422, "params.objective", "channel"),
    ("diversity too high", changed(params__diversity=9), None, 422, "params.diversity", "8"),
    ("logit on a feature map", changed(params__objective="logit"), None, 422, "params.objective", "Dense"),
    ("filters with the layer objective", changed(params__objective="layer"), None, 422, "filters", "omit"),
    ("no filters for a unit objective", without("filters"), None, 422, "filters", "at least 1"),
    ("seed method with diversity", changed(params__method="seed", params__diversity=2), None, 422, "params.method",
     "diversity"),
    ("malformed JSON", b'{"model": "vgg16-hed",', None, 400, "body", "JSON"),
    ("wrong content type", b"model=vgg16-hed", "application/x-www-form-urlencoded", 415, "content-type", "json"),
]


@pytest.mark.parametrize("case, body, content_type, status, field, reason", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_a_clear_problem(api, redis, vgg16_in_catalog, case, body, content_type, status, field, reason):
    stored = stored_keys(redis)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = api.post("/v1/visualizations", content=raw, headers={"content-type": content_type or "application/json"})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert {"type", "title", "status", "detail"} <= problem.keys() and problem["status"] == status
    named = [error for error in problem["errors"] if error["field"] == field]
    assert named, problem["errors"]
    assert reason.lower() in named[0]["reason"].lower(), named[0]["reason"]
    assert stored_keys(redis) == stored  # nothing was written


def test_a_valid_request_still_works_after_bad_ones(api, vgg16_in_catalog, run_jobs):
    for case in BAD_INPUTS[:5]:
        api.post("/v1/visualizations", json=case[1])
    created = api.post("/v1/visualizations", json=request(filters=[0], seed=301, steps=5, image_size=16)).json()
    run_jobs()
    done = api.get(f"/v1/visualizations/{created['id']}").json()
    assert done["status"] == "finished"
    assert api.get(done["images"][0]["url"]).status_code == 200


def test_an_unknown_visualisation_is_a_404_problem(api):
    for missing in ("0" * 32, "nope"):
        answer = api.get(f"/v1/visualizations/{missing}")
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"


def test_every_kind_of_domain_error_has_its_status_at_the_edge():
    def kinds(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from kinds(sub)

    slugs = {kind.slug for kind in kinds(FilterscopeError)}
    assert slugs <= STATUS.keys(), slugs - STATUS.keys()
    assert all(400 <= status < 600 for status in STATUS.values())
