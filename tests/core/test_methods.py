"""The method and objective tables: every row complete, defaults filled from them, and what a
method cannot do refused with its reason."""

from __future__ import annotations

import pytest

from core import methods
from core.errors import InvalidRequest
from core.spec import Method, Objective


def filled(method: Method, objective: Objective = Objective.channel, **chosen):
    return methods.fill(method, objective, diversity=chosen.pop("diversity", 1), precision="float32", steps=8,
                        image_size=chosen.pop("image_size", 32), seed=0, **chosen)


def test_every_method_and_objective_has_a_row():
    assert set(methods.METHODS) == set(Method)
    assert set(methods.OBJECTIVES) == set(Objective)


@pytest.mark.parametrize("method", list(Method))
def test_defaults_come_from_the_method_row(method):
    row = methods.METHODS[method]
    params = filled(method)
    assert params.learning_rate == row.default_learning_rate(params.image_size)
    assert params.transforms == row.transforms
    assert filled(method, learning_rate=0.123, transforms=not row.transforms).learning_rate == 0.123


def test_the_seed_methods_step_grows_with_the_pixels_its_mean_spreads_over():
    assert filled(Method.seed, image_size=64).learning_rate == 500.0
    assert filled(Method.seed, image_size=128).learning_rate == 4 * 500.0
    assert filled(Method.fourier, image_size=128).learning_rate == filled(Method.fourier, image_size=64).learning_rate


def test_what_a_method_does_not_support_is_refused_with_its_reason():
    methods.check_supported(filled(Method.fourier, Objective.logit, diversity=3))
    for params in (filled(Method.seed, diversity=2), filled(Method.seed, Objective.logit)):
        with pytest.raises(InvalidRequest) as refused:
            methods.check_supported(params)
        assert refused.value.field == "params.method" and "diversity" in refused.value.reason


def test_an_objective_refuses_a_layer_output_of_the_other_kind():
    methods.check_output(Objective.logit, "classes", is_vector=True)
    methods.check_output(Objective.channel, "classes", is_vector=True)
    with pytest.raises(InvalidRequest, match="needs a Dense"):
        methods.check_output(Objective.logit, "conv", is_vector=False)
    with pytest.raises(InvalidRequest, match="needs a feature map"):
        methods.check_output(Objective.neuron, "classes", is_vector=True)


def test_descriptions_name_every_method_and_default():
    assert all(f"`{m.value}`" in methods.method_descriptions() for m in Method)
    assert all(f"`{o.value}`" in methods.objective_descriptions() for o in Objective)
    assert "fourier 2.4, pixel 0.01, seed 500 x (image_size/64)^2, maco 0.2" in methods.learning_rate_description()
    assert "on for fourier and maco" in methods.transforms_description()


def test_every_filled_in_default_is_itself_a_valid_request():
    from service.visualizations.schemas import Params

    for method in Method:
        for size in (16, 512):
            params = filled(method, image_size=size)
            Params(method=method, image_size=size, learning_rate=params.learning_rate)  # within the documented bounds
