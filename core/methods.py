"""One table per method and per objective: defaults, what each supports, and the descriptions
that the API's schema and the CLI's choices are made from.

Adding a method or an objective means adding a row here (and its engine piece); validation, the
filled-in defaults and the documentation follow from the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from core.errors import InvalidRequest
from core.spec import FilledParams, Method, Objective, Precision


class Output(str, Enum):
    """The kinds of layer output an objective can read."""

    any = "any"
    feature_map = "feature map"
    vector = "vector"


@dataclass(frozen=True)
class MethodSpec:
    description: str
    learning_rate: float
    transforms: bool
    diversity: bool = True
    objectives: frozenset[Objective] = frozenset(Objective)
    limitation: str = ""  # said when a request asks for what the method does not support
    # The faithful method feeds its Dense layer's pixels to the model as they are: 3 channels, at
    # the model's own input size.
    needs_model_input: bool = False

    # The size the learning rate was chosen at, for a method whose gradients shrink with the image:
    # the objective is a mean over the feature map, so each pixel's gradient goes as 1/pixels.
    scales_from_size: int | None = None

    def default_learning_rate(self, image_size: int | None = None) -> float:
        rate = self.learning_rate
        if self.scales_from_size and image_size:
            rate *= (image_size / self.scales_from_size) ** 2
        return rate


# Learning rates differ per method because they optimise very different parameters: Fourier
# coefficients with Adam, pixels in [0, 1] with Adam, and the Dense weights (pixels in the model's
# own input units, 0..255 minus the mean) with plain SGD as in the original method.
METHODS: dict[Method, MethodSpec] = {
    Method.fourier: MethodSpec(
        "Fourier-space image with decorrelated colour and robustness transforms (default).",
        learning_rate=2.4, transforms=True,
    ),
    Method.pixel: MethodSpec("pixels optimised directly.", learning_rate=0.01, transforms=False),
    Method.seed: MethodSpec(
        "the original Dense-layer method trained with `model.fit` and SGD.",
        learning_rate=500.0, transforms=False, diversity=False, scales_from_size=64,
        objectives=frozenset(Objective) - {Objective.logit},
        limitation="the 'seed' method optimises one image per filter on the layer's output: it supports neither "
        "diversity nor 'logit'; use 'fourier'",
        needs_model_input=True,
    ),
    Method.maco: MethodSpec(
        "only the Fourier phase is optimised, the magnitude spectrum is fixed to a natural-image power law, "
        "with random crops every step.",
        learning_rate=0.2, transforms=True,
    ),
}


@dataclass(frozen=True)
class ObjectiveSpec:
    description: str
    reports: str  # what `activation` holds for it
    takes_filters: bool = True
    output: Output = Output.any
    mismatch: str = ""  # said when the layer's output is of the other kind; {layer} is its name


OBJECTIVES: dict[Objective, ObjectiveSpec] = {
    Objective.channel: ObjectiveSpec("the filter's mean activation.", "the filter's mean activation"),
    Objective.neuron: ObjectiveSpec(
        "the unit at the centre of its feature map.", "its centre unit", output=Output.feature_map,
        mismatch="'neuron' needs a feature map; {layer!r} is a Dense layer (use 'channel')"),
    Objective.negative: ObjectiveSpec("minimise the filter's mean pre-activation (before its ReLU, where "
                                      "pushing down still means something).", "the filter's mean pre-activation"),
    Objective.layer: ObjectiveSpec(
        "DeepDream, the mean squared activation of the whole layer (omit `filters`).",
        "the layer's mean squared activation", takes_filters=False),
    Objective.logit: ObjectiveSpec(
        "a class's pre-softmax value on a Dense layer.", "the logit", output=Output.vector,
        mismatch="'logit' needs a Dense (class) layer; {layer!r} outputs feature maps"),
}


def fill(method: Method, objective: Objective, diversity: int, precision: Precision, steps: int, image_size: int,
         seed: int, learning_rate: float | None = None, transforms: bool | None = None) -> FilledParams:
    """Params with the method's defaults filled in where the client left them out."""
    spec = METHODS[method]
    return FilledParams(
        method=method, objective=objective, diversity=diversity, precision=precision, steps=steps,
        image_size=image_size, learning_rate=learning_rate or spec.default_learning_rate(image_size), seed=seed,
        transforms=spec.transforms if transforms is None else transforms,
    )


def check_supported(params: FilledParams) -> None:
    """The method supports the objective and the diversity asked for."""
    spec = METHODS[params.method]
    if (params.diversity > 1 and not spec.diversity) or params.objective not in spec.objectives:
        raise InvalidRequest("params.method", spec.limitation)


def check_output(objective: Objective, layer: str, is_vector: bool) -> None:
    """The layer's output is of the kind the objective reads."""
    spec = OBJECTIVES[objective]
    wanted = Output.vector if is_vector else Output.feature_map
    if spec.output not in (Output.any, wanted):
        raise InvalidRequest("params.objective", spec.mismatch.format(layer=layer))


def method_descriptions() -> str:
    return " ".join(f"`{method.value}`: {spec.description}" for method, spec in METHODS.items())


def objective_descriptions() -> str:
    return " ".join(f"`{objective.value}`: {spec.description}" for objective, spec in OBJECTIVES.items())


def learning_rate_description() -> str:
    def default(method: Method, spec: MethodSpec) -> str:
        scaled = f" x (image_size/{spec.scales_from_size})^2" if spec.scales_from_size else ""
        return f"{method.value} {spec.learning_rate:g}{scaled}"

    return "Step size; default per method: " + ", ".join(default(m, s) for m, s in METHODS.items()) + "."


def transforms_description() -> str:
    on = " and ".join(m.value for m, spec in METHODS.items() if spec.transforms)
    return f"Robustness transforms (pad, jitter, scale, rotate); default on for {on}, off otherwise."
