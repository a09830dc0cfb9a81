"""The standard catalog: keras.applications image classifiers, with the weights file each needs.

Weights are never downloaded: a model is available when its file lies in the weights directory
(`FILTERSCOPE_WEIGHTS_DIR`) or in the standard Keras cache (`$KERAS_HOME/models`, by default
`~/.keras/models`), under exactly the name Keras itself would save it as.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.preprocessing import Mode, preprocessing_spec


@dataclass(frozen=True)
class StandardModel:
    id: str
    name: str
    application: str  # the keras.applications constructor
    weights_file: str
    input_size: int
    preprocessing: Mode

    def preprocessing_spec(self) -> dict:
        return preprocessing_spec(self.preprocessing)


STANDARD_MODELS = {
    m.id: m
    for m in [
        StandardModel("vgg16", "VGG16 (ImageNet)", "VGG16", "vgg16_weights_tf_dim_ordering_tf_kernels.h5", 224, "caffe"),
        StandardModel("vgg19", "VGG19 (ImageNet)", "VGG19", "vgg19_weights_tf_dim_ordering_tf_kernels.h5", 224, "caffe"),
        StandardModel("resnet50", "ResNet50 (ImageNet)", "ResNet50", "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
                      224, "caffe"),
        StandardModel("resnet50v2", "ResNet50V2 (ImageNet)", "ResNet50V2",
                      "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5", 224, "tf"),
        StandardModel("inception-v3", "InceptionV3 (ImageNet)", "InceptionV3",
                      "inception_v3_weights_tf_dim_ordering_tf_kernels.h5", 299, "tf"),
        StandardModel("xception", "Xception (ImageNet)", "Xception", "xception_weights_tf_dim_ordering_tf_kernels.h5",
                      299, "tf"),
        StandardModel("mobilenet-v2", "MobileNetV2 1.0 (ImageNet)", "MobileNetV2",
                      "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", 224, "tf"),
        StandardModel("densenet121", "DenseNet121 (ImageNet)", "DenseNet121",
                      "densenet121_weights_tf_dim_ordering_tf_kernels.h5", 224, "torch"),
        # EfficientNet and ConvNeXt normalise inside the model: they take RGB 0..255 as it is.
        StandardModel("efficientnet-b0", "EfficientNetB0 (ImageNet)", "EfficientNetB0", "efficientnetb0.h5", 224, "none"),
        StandardModel("convnext-tiny", "ConvNeXtTiny (ImageNet)", "ConvNeXtTiny", "convnext_tiny.h5", 224, "none"),
    ]
}


def keras_cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def weights_dirs(weights_dir: Path) -> list[Path]:
    return [weights_dir, keras_cache_dir()]


def find_weights(model: StandardModel, weights_dir: Path) -> Path | None:
    for directory in weights_dirs(weights_dir):
        candidate = directory / model.weights_file
        if candidate.is_file():
            return candidate
    return None


def weights_stamp(path: Path) -> str:
    """Size and modification time: a replaced weights file gets a new chance to load."""
    stat = path.stat()
    return f"{stat.st_size}-{stat.st_mtime_ns}"
