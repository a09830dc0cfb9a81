"""The engine's side of the method table: how each method of core/methods.py optimises a batch.

A gradient-ascent method is a parameterisation seen through robustness transforms; `seed` trains
its own Keras model. Picked here once per batch, never by `if` further down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.spec import FilledParams, Method
from worker.engine.optimize import BatchResult, GradientAscent, StepCallback
from worker.engine.parameterisations import FourierImage, MacoImage, PixelImage
from worker.engine.seed import run_seed_method
from worker.engine.target import LayerTarget
from worker.engine.transforms import RANDOM_CROPS, STANDARD, Robustness


class EngineMethod(Protocol):
    def run(self, target: LayerTarget, units: list[int | None], params: FilledParams,
            on_step: StepCallback) -> BatchResult: ...


@dataclass(frozen=True)
class Ascent:
    parameterisation: type
    robustness: Robustness  # used when the request's `transforms` is on

    def run(self, target: LayerTarget, units: list[int | None], params: FilledParams,
            on_step: StepCallback) -> BatchResult:
        batch = len(units) * params.diversity
        ascent = GradientAscent.for_target(target, params, batch, self.parameterisation, self.robustness)
        return ascent.run(units, params, on_step)


class DreamTraining:
    """The original method: a Dense layer's weights as the image, trained with `model.fit`."""

    def run(self, target: LayerTarget, units: list[int | None], params: FilledParams,
            on_step: StepCallback) -> BatchResult:
        return run_seed_method(target, units, params, on_step)


ENGINE_METHODS: dict[Method, EngineMethod] = {
    Method.fourier: Ascent(FourierImage, STANDARD),
    Method.pixel: Ascent(PixelImage, STANDARD),
    Method.maco: Ascent(MacoImage, RANDOM_CROPS),  # random crops of 70-100 % of the image
    Method.seed: DreamTraining(),
}
