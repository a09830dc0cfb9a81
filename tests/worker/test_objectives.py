"""Each objective moves its quantity the right way, far beyond noise, on vgg16-hed at small sizes."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from core.spec import Objective
from service.visualizations.schemas import Params
from worker.engine.diversity import gram_similarity
from worker.engine.render import measure, render
from worker.engine.target import LayerTarget, Preprocessing

LAYER = "block3_conv1"
FILTERS = [1, 2, 3, 5]


def small(**fields):
    return Params(**({"steps": 32, "image_size": 32} | fields)).filled()


def test_negative_drives_the_filter_below_what_noise_gives(vgg16):
    # It reports the pre-activation it pushes down: below zero, where a ReLU's output would read 0.
    for rendering in render(vgg16.target(LAYER), FILTERS, small(objective="negative", image_size=48, steps=48)):
        assert rendering.activation < min(0.0, rendering.start_activation - 5.0), rendering


def test_neuron_raises_the_centre_unit_more_than_the_mean_objective_does(vgg16):
    target = vgg16.target(LAYER)
    neuron = np.stack([r.pixels for r in render(target, FILTERS, small(objective="neuron"))])
    channel = np.stack([r.pixels for r in render(target, FILTERS, small(objective="channel"))])
    centre_by_neuron = measure(target, neuron, FILTERS, Objective.neuron)
    centre_by_channel = measure(target, channel, FILTERS, Objective.neuron)
    # The channel objective's wake pushes its strongest positions, the centre among them at times,
    # and a unit firing over most of its map is pushed to fill it, the centre included.
    assert np.all(centre_by_neuron > 1.3 * centre_by_channel), (centre_by_neuron, centre_by_channel)
    assert np.mean(centre_by_neuron) > 2 * np.mean(centre_by_channel)


def test_layer_objective_dreams_up_the_whole_layer(vgg16):
    (rendering,) = render(vgg16.target(LAYER), [None], small(objective="layer"))
    assert rendering.filter is None
    assert rendering.activation > 10 * rendering.start_activation


def test_maco_raises_its_filters_far_above_noise(vgg16):
    # Its own start is already full-contrast noise with a natural spectrum, which some filters
    # like; the noise the pixel methods start from is the fair baseline.
    target = vgg16.target(LAYER)
    noise = {r.filter: r.start_activation for r in render(target, FILTERS, small(method="pixel", image_size=48, steps=1))}
    for rendering in render(target, FILTERS, small(method="maco", image_size=48, steps=48)):
        assert rendering.activation > 1.4 * rendering.start_activation, rendering.filter
        assert rendering.activation > 2 * noise[rendering.filter] + 10, (rendering.filter, noise, rendering.activation)


def test_diversity_images_of_one_filter_differ_and_are_pushed_apart(vgg16):
    target = vgg16.target(LAYER)
    diverse = render(target, [2], small(diversity=3))
    assert [(r.filter, r.index) for r in diverse] == [(2, 0), (2, 1), (2, 2)]
    pixels = [r.pixels.astype(int) for r in diverse]
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(pixels[i] - pixels[j]).mean() > 10
    assert all(r.activation > 4 * r.start_activation for r in diverse)

    # The same three starting points without the penalty end up more alike in their features.
    def similarity(params):
        images = np.stack([r.pixels for r in render(target, [2], params)])
        _, post = target.activations(tf.constant(images / 255.0, tf.float32))
        return float(tf.reduce_mean(gram_similarity(post, len(images))))

    penalised = similarity(small(diversity=3, seed=11))
    unpenalised_seeds = [np.stack([r.pixels for r in render(target, [2], small(seed=11 + k))]) for k in range(3)]
    _, post = target.activations(tf.constant(np.concatenate(unpenalised_seeds) / 255.0, tf.float32))
    free = float(tf.reduce_mean(gram_similarity(post, 3)))
    assert penalised < free, (penalised, free)


def test_curves_and_snapshots_follow_the_optimisation(vgg16):
    (rendering,) = render(vgg16.target(LAYER), [2], small(steps=40))
    assert len(rendering.curve) == 32
    assert rendering.curve[-1] > 4 * max(rendering.curve[0], 1.0)
    assert rendering.frames.shape == (17, 32, 32, 3) and rendering.frames.dtype == np.uint8
    assert np.abs(rendering.frames[-1].astype(int) - rendering.pixels.astype(int)).max() <= 1


def test_logit_objective_raises_a_class_score_before_softmax():
    # A small classifier with a softmax head: the logit objective must see through the softmax.
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(4, activation="softmax", name="classes")(x)
    target = LayerTarget.build(keras.Model(inputs, outputs), "classes", Preprocessing())
    for rendering in render(target, [0, 3], small(objective="logit")):
        assert rendering.activation > rendering.start_activation + 0.5, rendering
