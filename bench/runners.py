"""The runs that bench/speed.py and bench/quality.py compare, side by side on the same model,
layer, filters and image size: Filterscope's methods, a plain per-filter gradient-ascent loop in
the manner of the well-known Keras example, tf-keras-vis' ActivationMaximization with its
defaults (optional: `pip install tf-keras-vis`), and the Lucid library's published recipe.

Every runner returns the images it had at chosen checkpoint steps and the time its steps took,
excluding the checkpoints themselves.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from core.spec import Objective  # noqa: E402
from service.visualizations.schemas import Params  # noqa: E402
from worker.engine import quality  # noqa: E402
from worker.engine.images import to_8bit  # noqa: E402
from worker.engine.methods import ENGINE_METHODS  # noqa: E402
from worker.engine.objectives import channel_mean  # noqa: E402
from worker.engine.optimize import GradientAscent  # noqa: E402
from worker.engine.parameterisations import COLOUR_CORRELATION, starting_noise  # noqa: E402
from worker.engine.seed import DreamModel  # noqa: E402
from worker.engine.target import LayerTarget  # noqa: E402
from worker.engine.transforms import resample  # noqa: E402
from worker.models.registry import ModelRegistry  # noqa: E402


@dataclass
class Run:
    name: str
    images_per_step: int  # images one step advances (16 for a batch, 1 for a per-filter loop)
    step_seconds: list[float] = field(default_factory=list)
    checkpoints: list[tuple[float, int, np.ndarray]] = field(default_factory=list)  # (seconds, step, uint8 images)

    @property
    def median_step(self) -> float:
        steady = self.step_seconds[3:] or self.step_seconds
        return statistics.median(steady)


class Clock:
    """Time spent in optimisation steps only."""

    def __init__(self):
        self.total = 0.0
        self.mark = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed = now - self.mark
        self.total += elapsed
        self.mark = now
        return elapsed

    def resume(self) -> None:
        self.mark = time.perf_counter()


def load_target(layer: str, data_dir: Path) -> LayerTarget:
    return ModelRegistry(data_dir / "models").get("vgg16-hed").target(layer)


def filterscope(target: LayerTarget, filters: list[int], method: str, size: int, steps: int,
                checkpoints: set[int], precision: str = "float32") -> Run:
    params = Params(method=method, steps=steps, image_size=size, precision=precision).filled()
    run = Run(f"filterscope {method}" + (" bf16" if precision == "bfloat16" else ""), len(filters))
    target = target.in_precision(precision)
    clock = Clock()

    if method == "seed":
        dream = DreamModel.for_target(target, params, len(filters))
        snapshot = dream.rgb
    else:
        method_parts = ENGINE_METHODS[params.method]
        ascent = GradientAscent.for_target(target, params, len(filters), method_parts.parameterisation,
                                           method_parts.robustness)
        snapshot = ascent.images

    def on_step(step: int) -> None:
        run.step_seconds.append(clock.lap())
        if step in checkpoints:
            run.checkpoints.append((clock.total, step, to_8bit(snapshot())))
            clock.resume()

    clock.resume()
    if method == "seed":
        noise = np.broadcast_to(starting_noise(params.seed, size), (len(filters), size, size, 3))
        dream.train(target.preprocessing.to_input(tf.constant(noise)).numpy(), filters, params, on_step)
    else:
        ascent.run(filters, params, on_step)
        # The last checkpoint is what a job returns: after the extra steps for still-silent units.
        clock.lap()
        run.checkpoints[-1] = (clock.total, steps, to_8bit(ascent.images()))
    return run


def keras_example(target: LayerTarget, filters: list[int], size: int, steps: int, checkpoints: set[int]) -> Run:
    """One filter at a time: a [-1, 1] image from small noise, the L2-normalised gradient of the
    filter's mean activation (borders excluded), step 10; shown standardised at the end."""
    run = Run("keras example loop", 1)
    image = tf.Variable(tf.zeros((1, size, size, 3)))
    unit = tf.Variable(0)

    @tf.function(jit_compile=False)
    def ascend():
        with tf.GradientTape() as tape:
            tape.watch(image)
            _, post = target.activations((image + 1.0) / 2.0)
            loss = tf.reduce_mean(post[:, 2:-2, 2:-2, unit])
        gradient = tf.math.l2_normalize(tape.gradient(loss, image))
        image.assign_add(10.0 * gradient)

    shown_at: dict[int, list[np.ndarray]] = {c: [] for c in checkpoints}
    seconds_at: dict[int, float] = {c: 0.0 for c in checkpoints}
    for filter_index in filters:
        rng = np.random.default_rng(filter_index)
        image.assign(((rng.uniform(0, 1, (1, size, size, 3)) - 0.5) * 0.25).astype(np.float32))
        unit.assign(filter_index)
        clock = Clock()
        for step in range(1, steps + 1):
            ascend()
            run.step_seconds.append(clock.lap())
            if step in checkpoints:
                # Filters run one after the other: all of them at step s costs s steps of each.
                seconds_at[step] += clock.total
                shown_at[step].append(shown(image.numpy()[0]))
                clock.resume()
    for step in sorted(checkpoints):
        run.checkpoints.append((seconds_at[step], step, to_8bit(np.stack(shown_at[step]))))
    return run


def shown(image: np.ndarray) -> np.ndarray:
    """The Keras example's deprocessing: standardise, 0.15 spread around mid-grey, clip."""
    image = (image - image.mean()) / (image.std() + 1e-5) * 0.15 + 0.5
    return np.clip(image, 0.0, 1.0)


class _CaffeInput(keras.layers.Layer):
    def __init__(self, target: LayerTarget, **kwargs):
        super().__init__(**kwargs)
        self.target = target

    def call(self, rgb255):
        return self.target.preprocessing.to_input(rgb255 / 255.0)


def tf_keras_vis(target: LayerTarget, filters: list[int], size: int, steps: int, checkpoints: set[int]) -> Run | None:
    try:
        import tf_keras_vis
        from tf_keras_vis.activation_maximization import ActivationMaximization
        from tf_keras_vis.activation_maximization.callbacks import Callback
    except ImportError:
        return None
    inputs = keras.Input((size, size, 3))
    post = keras.layers.Activation(target.activation)(target.model(_CaffeInput(target)(inputs)))
    model = keras.Model(inputs, post)
    run = Run(f"tf-keras-vis {tf_keras_vis.__version__}", len(filters))
    clock = Clock()
    units = tf.constant(filters, tf.int32)

    class Recorder(Callback):
        def __call__(self, i, values, grads, scores, model_outputs, **kwargs):
            run.step_seconds.append(clock.lap())
            if i + 1 in checkpoints:
                run.checkpoints.append((clock.total, i + 1, np.clip(np.round(values[0].numpy()), 0, 255).astype(np.uint8)))
                clock.resume()

    seed = tf.random.stateless_uniform((len(filters), size, size, 3), seed=[0, 1], minval=0.0, maxval=255.0)
    clock.resume()
    ActivationMaximization(model, clone=False)(lambda output: channel_mean(output, units), seed_input=seed,
                                               steps=steps, callbacks=[Recorder()])
    return run


def conv_flops(target: LayerTarget, size: int) -> float:
    """FLOPs of one image-step: the convolutions of the forward pass to the target layer, and as
    many again for the backward pass to the input (no weight gradients)."""
    convolutions = [layer for layer in target.model.layers if isinstance(layer, keras.layers.Conv2D)]
    shapes = keras.Model(target.model.inputs, [c.output for c in convolutions]).compute_output_shape((1, size, size, 3))
    forward = 0.0
    for layer, shape in zip(convolutions, shapes):
        kh, kw = layer.kernel_size
        forward += 2.0 * shape[1] * shape[2] * kh * kw * layer.kernel.shape[2] * layer.filters
    return 2.0 * forward


def attainable_flops(repeats: int = 20) -> float:
    """FP32 FLOP/s of a large 3x3 convolution on this machine: the rate a step could reach."""
    x = tf.random.normal((16, 32, 32, 256))
    kernel = tf.random.normal((3, 3, 256, 256))
    conv = tf.function(lambda: tf.nn.conv2d(x, kernel, 1, "SAME"))
    conv()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        conv().numpy()
        times.append(time.perf_counter() - began)
    return 2.0 * 16 * 32 * 32 * 9 * 256 * 256 / statistics.median(times)


def robust_activation(target: LayerTarget, images: np.ndarray, filters: list[int], shifts: int = 8) -> tuple[float, float]:
    """(as-is, robust) mean activation of each image's filter over the batch; robust = averaged
    over fixed small jitters (up to 4 px) and rescalings (0.9-1.1), the same for every method."""
    rgb = tf.constant(images.astype(np.float32) / 255.0)
    units = tf.constant(filters, tf.int32)
    _, post = target.activations(rgb)
    plain = float(tf.reduce_mean(channel_mean(post, units)))
    rng = np.random.default_rng(1234)
    size = images.shape[1]
    centre = (size - 1) / 2.0
    values = []
    for _ in range(shifts):
        scale = rng.uniform(0.9, 1.1)
        dx, dy = rng.uniform(-4, 4, 2)
        affine = np.array([1 / scale, 0, centre - centre / scale + dx, 0, 1 / scale, centre - centre / scale + dy, 0, 0],
                          np.float32)
        _, post = target.activations(resample(rgb, tf.constant(affine)))
        values.append(float(tf.reduce_mean(channel_mean(post, units))))
    return plain, float(np.mean(values))


def high_frequency_share(images: np.ndarray) -> float:
    """Share of spectral energy above half the Nyquist frequency, mean over images (as every image reports it)."""
    return float(np.mean(quality.high_frequency_share(images)))


# The Lucid recipe's transforms: pad 12 with grey, jitter 8, scale by one of 0.9..1.1, rotate by one
# of -10..10 degrees (0 weighted 6 times), jitter 4. Here composed into one affine resampling per step.
LUCID_PAD = 12
LUCID_SCALES = [1 + (i - 5) / 50 for i in range(11)]
LUCID_ANGLES = list(range(-10, 11)) + [0] * 5


def lucid_affines(steps: int, size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centre = (size - 1) / 2.0
    out = np.zeros((steps, 8), np.float32)
    for i in range(steps):
        scale, angle = rng.choice(LUCID_SCALES), np.radians(rng.choice(LUCID_ANGLES))
        dx, dy = rng.integers(-8, 9, 2) + rng.integers(-4, 5, 2)
        cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
        out[i, :6] = [cos, -sin, centre - cos * centre + sin * centre + dx,
                      sin, cos, centre - sin * centre - cos * centre + dy]
    return out


def lucid_recipe(target: LayerTarget, filters: list[int], size: int, steps: int, checkpoints: set[int]) -> Run:
    """The Lucid recipe as published: a free spectrum scaled by 1/f, decorrelated colour, a sigmoid,
    Adam at 0.05, the transforms above; every filter in one batch, its mean activation maximised."""
    run = Run("lucid recipe", len(filters))
    frequency = np.sqrt(np.fft.fftfreq(size)[:, None] ** 2 + np.fft.rfftfreq(size)[None, :] ** 2)
    scale = tf.constant((1.0 / np.maximum(frequency, 1.0 / size) * size).astype(np.float32))
    shape = (len(filters), 3, size, size // 2 + 1)
    rng = np.random.default_rng(0)
    real = tf.Variable(rng.normal(0, 0.01, shape).astype(np.float32))
    imag = tf.Variable(rng.normal(0, 0.01, shape).astype(np.float32))
    colour = tf.constant(COLOUR_CORRELATION.T)
    units = tf.constant(filters, tf.int32)
    optimizer = keras.optimizers.Adam(learning_rate=0.05)

    def image():
        planes = tf.signal.irfft2d(tf.complex(real * scale, imag * scale), fft_length=[size, size]) / 4.0
        return tf.sigmoid(tf.tensordot(tf.transpose(planes, [0, 2, 3, 1]), colour, axes=1))

    @tf.function(jit_compile=False)
    def ascend(affine):
        with tf.GradientTape() as tape:
            padded = tf.pad(image(), [[0, 0], [LUCID_PAD, LUCID_PAD], [LUCID_PAD, LUCID_PAD], [0, 0]],
                            constant_values=0.5)
            _, post = target.activations(resample(padded, affine))
            loss = -tf.reduce_sum(channel_mean(post, units))
        optimizer.apply_gradients(zip(tape.gradient(loss, [real, imag]), [real, imag]))

    affines = lucid_affines(steps, size + 2 * LUCID_PAD)
    clock = Clock()
    for step in range(1, steps + 1):
        ascend(tf.constant(affines[step - 1]))
        run.step_seconds.append(clock.lap())
        if step in checkpoints:
            run.checkpoints.append((clock.total, step, to_8bit(image().numpy())))
            clock.resume()
    return run


def cross_activations(target: LayerTarget, images: np.ndarray, filters: list[int]) -> np.ndarray:
    """Mean activation of every filter (columns) on every image of the set (rows)."""
    _, post = target.activations(tf.constant(images.astype(np.float32) / 255.0))
    return tf.reduce_mean(post, axis=[1, 2]).numpy()[:, filters]


def selectivity(target: LayerTarget, images: np.ndarray, filters: list[int]) -> float:
    """Share of filters whose own image excites them more than any other image of the set does."""
    means = cross_activations(target, images, filters)
    return float(np.mean([np.argmax(means[:, j]) == j for j in range(len(filters))]))


def selectivity_misses(target: LayerTarget, images: np.ndarray, filters: list[int]) -> list[str]:
    """For each filter another image excites more: by how much, as a share of its own image's."""
    means = cross_activations(target, images, filters)
    misses = []
    for j, unit in enumerate(filters):
        best = int(np.argmax(means[:, j]))
        if best != j:
            misses.append(f"filter {unit}: own {means[j, j]:.1f}, filter {filters[best]}'s image {means[best, j]:.1f} "
                          f"({means[best, j] / max(means[j, j], 1e-9) - 1:+.1%})")
    return misses


def can_fire(target: LayerTarget, filters: list[int], size: int = 64, steps: int = 300) -> np.ndarray:
    """Whether each unit fires on some image in range, found without any of the methods compared:
    signed-gradient steps on raw pixels in [0, 1] that push the unit's largest pre-activation."""
    rng = np.random.default_rng(7)
    pixels = tf.Variable(rng.uniform(0.4, 0.6, (len(filters), size, size, 3)).astype(np.float32))
    units = tf.constant(filters, tf.int32)

    @tf.function(jit_compile=False)
    def push():
        with tf.GradientTape() as tape:
            pre, _ = target.activations(pixels)
            own = tf.gather(pre, units, axis=3, batch_dims=1)
            peak = tf.reduce_max(tf.reshape(own, [len(filters), -1]), axis=1)
            total = tf.reduce_sum(peak)
        pixels.assign(tf.clip_by_value(pixels + 0.01 * tf.sign(tape.gradient(total, pixels)), 0.0, 1.0))
        return peak

    best = np.full(len(filters), -np.inf)
    for _ in range(steps):
        best = np.maximum(best, push().numpy())
    return best > 0


def alive(target: LayerTarget, images: np.ndarray, filters: list[int]) -> np.ndarray:
    return quality.fires(target, tf.constant(images.astype(np.float32) / 255.0), tf.constant(filters, tf.int32),
                         Objective.channel)
