"""What the benchmark knows: datasets, backends, precisions, activations and models.

Pure data, no framework imports: the Snakefile reads it to check a config and plan the DAG in
seconds. A model name may have one implementation per framework (`cnn` is seed 002's torch CNN
on a torch backend and seed 000's Keras baseline on a Keras backend); the backend picks which.
The seeds are the source studies of docs/studies.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu", "leaky_relu", "prelu", "swish", "softplus")

LEARNABLE_PRECISIONS = ("fp8", "fp6", "fp4", "fp3", "fp2")
OCP_PRECISIONS = ("e4m3", "e5m2", "e3m2", "e2m3", "e2m1")
PRECISIONS = ("fp32", *LEARNABLE_PRECISIONS, *OCP_PRECISIONS)

# Bits per stored value at each precision (used for footprints and the energy proxy).
PRECISION_BITS = {
    "fp32": 32,
    "fp8": 8,
    "fp6": 6,
    "fp4": 4,
    "fp3": 3,
    "fp2": 2,
    "e4m3": 8,
    "e5m2": 8,
    "e3m2": 6,
    "e2m3": 6,
    "e2m1": 4,
}


@dataclass(frozen=True)
class Backend:
    name: str
    framework: str  # torch | numba | keras
    device: str  # cpu | cuda | mps
    model_file: str  # what the train rule writes


BACKENDS = {
    b.name: b
    for b in (
        Backend("torch-cpu", "torch", "cpu", "model.pt"),
        Backend("torch-cuda", "torch", "cuda", "model.pt"),
        Backend("torch-mps", "torch", "mps", "model.pt"),
        Backend("numba-cpu", "numba", "cpu", "model.npz"),
        Backend("numba-cuda", "numba", "cuda", "model.npz"),
        Backend("keras-cpu", "keras", "cpu", "model.keras"),
        Backend("keras-gpu", "keras", "cuda", "model.keras"),
    )
}
FRAMEWORKS = ("torch", "numba", "keras")

# What each framework's engine can run, whatever the model.
FRAMEWORK_PRECISIONS = {"torch": PRECISIONS, "numba": ("fp32",), "keras": ("fp32",)}
FRAMEWORK_ACTIVATIONS = {"torch": ACTIVATIONS, "numba": ("relu",), "keras": ("relu",)}

# Train options each framework's engine implements, as the values it accepts; a key left out
# accepts any valid value. `tradeoffs.config.check_config` refuses the rest before any job.
TRAIN_OPTIONS: dict[str, dict[str, tuple]] = {
    "torch": {"fine_tune_epochs": (0,)},
    "numba": {
        "optimizer": ("sgd",),
        "weight_decay": (0.0,),
        "schedule": ("constant",),
        "label_smoothing": (0.0,),
        "augment": (False,),
        "channels_last": (False,),
        "autocast": ("none",),
        "tensorboard": (False,),
        "fine_tune_epochs": (0,),
        "image_size": (None,),
    },
    "keras": {
        "schedule": ("constant", "cosine"),
        "label_smoothing": (0.0,),
        "channels_last": (False,),
        "autocast": ("none",),
    },
}


def unsupported_train_option(key: str, value: object, backend: str) -> str | None:
    """Why `backend`'s engine cannot honour `train.{key}: value`, or None when it can."""
    allowed = TRAIN_OPTIONS[BACKENDS[backend].framework].get(key)
    if allowed is None or value in allowed:
        return None
    framework = BACKENDS[backend].framework
    choices = ", ".join("null" if v is None else str(v).lower() for v in allowed)
    return f"{value!r} is not implemented on {backend} ({framework} supports: {choices})"


@dataclass(frozen=True)
class ModelImpl:
    """One framework's implementation of a named model."""

    framework: str
    input_shape: tuple[int, int, int] | None  # HWC the model expects; None: from the config
    seed: str  # which source study defines it


MODELS: dict[str, dict[str, ModelImpl]] = {
    "mnist_cnn": {
        "torch": ModelImpl("torch", (28, 28, 1), "004"),
        "numba": ModelImpl("numba", (28, 28, 1), "004"),
    },
    "custom_cnn": {"torch": ModelImpl("torch", (32, 32, 3), "001")},
    "resnet18": {"torch": ModelImpl("torch", (32, 32, 3), "001/002")},
    "cnn": {
        "torch": ModelImpl("torch", (32, 32, 3), "002"),
        "keras": ModelImpl("keras", (32, 32, 3), "000"),
    },
    "gcn": {"torch": ModelImpl("torch", (32, 32, 3), "002")},
    "mlpmixer": {"torch": ModelImpl("torch", (32, 32, 3), "002")},
    "mobilenetv2": {
        "torch": ModelImpl("torch", (32, 32, 3), "002"),
        "keras": ModelImpl("keras", None, "003"),
    },
    "vit": {"torch": ModelImpl("torch", (32, 32, 3), "002")},
    "bnn": {"keras": ModelImpl("keras", (32, 32, 3), "000")},
    "hybrid": {"keras": ModelImpl("keras", (32, 32, 3), "000")},
    "resnet50v2": {"keras": ModelImpl("keras", None, "003")},
    "efficientnetb0": {"keras": ModelImpl("keras", None, "003")},
    "densenet121": {"keras": ModelImpl("keras", None, "003")},
    "base": {"keras": ModelImpl("keras", (32, 32, 3), "003")},
}

# Built-in datasets: name -> format. Users add their own under `datasets:` in the config.
BUILTIN_DATASETS = {
    "mnist": "mnist",
    "cifar10": "cifar10",
    "cifar100": "cifar100",
    "cinic10": "cinic10",
    "digits": "digits",
    "synthetic": "synthetic",
}
DATASET_FORMATS = ("mnist", "cifar10", "cifar100", "cinic10", "digits", "synthetic", "imagefolder")
DOWNLOADED_FORMATS = ("mnist", "cifar10", "cifar100", "cinic10")

# Class names, in label order, of the formats whose classes are fixed (the config check compares
# them before evaluating a run on another dataset; the evaluate job compares meta.json's).
DIGIT_CLASSES = tuple(str(digit) for digit in range(10))
CIFAR10_CLASSES = (
    *("airplane", "automobile", "bird", "cat", "deer"),
    *("dog", "frog", "horse", "ship", "truck"),
)
CIFAR100_CLASSES = tuple(  # the fine labels
    [
        "apple",
        "aquarium_fish",
        "baby",
        "bear",
        "beaver",
        "bed",
        "bee",
        "beetle",
        "bicycle",
        "bottle",
        "bowl",
        "boy",
        "bridge",
        "bus",
        "butterfly",
        "camel",
        "can",
        "castle",
        "caterpillar",
        "cattle",
        "chair",
        "chimpanzee",
        "clock",
        "cloud",
        "cockroach",
        "couch",
        "crab",
        "crocodile",
        "cup",
        "dinosaur",
        "dolphin",
        "elephant",
        "flatfish",
        "forest",
        "fox",
        "girl",
        "hamster",
        "house",
        "kangaroo",
        "keyboard",
        "lamp",
        "lawn_mower",
        "leopard",
        "lion",
        "lizard",
        "lobster",
        "man",
        "maple_tree",
        "motorcycle",
        "mountain",
        "mouse",
        "mushroom",
        "oak_tree",
        "orange",
        "orchid",
        "otter",
        "palm_tree",
        "pear",
        "pickup_truck",
        "pine_tree",
        "plain",
        "plate",
        "poppy",
        "porcupine",
        "possum",
        "rabbit",
        "raccoon",
        "ray",
        "road",
        "rocket",
        "rose",
        "sea",
        "seal",
        "shark",
        "shrew",
        "skunk",
        "skyscraper",
        "snail",
        "snake",
        "spider",
        "squirrel",
        "streetcar",
        "sunflower",
        "sweet_pepper",
        "table",
        "tank",
        "telephone",
        "television",
        "tiger",
        "tractor",
        "train",
        "trout",
        "tulip",
        "turtle",
        "wardrobe",
        "whale",
        "willow_tree",
        "wolf",
        "woman",
        "worm",
    ]
)
FORMAT_CLASSES = {
    "mnist": DIGIT_CLASSES,
    "digits": DIGIT_CLASSES,
    "cifar10": CIFAR10_CLASSES,
    "cinic10": CIFAR10_CLASSES,  # CINIC-10 uses CIFAR-10's classes and names
    "cifar100": CIFAR100_CLASSES,
}
# Stored image shape (H, W, C) of the formats whose shape is fixed (a declared model is built
# for it before any job; synthetic's comes from its options, an imagefolder's only at prepare).
FORMAT_SHAPES = {
    "mnist": (28, 28, 1),
    "digits": (8, 8, 1),
    "cifar10": (32, 32, 3),
    "cinic10": (32, 32, 3),
    "cifar100": (32, 32, 3),
}
# Hendrycks and Dietterich's CIFAR-10-C corruptions that tradeoffs.data.corruptions implements.
CORRUPTIONS = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "motion_blur",
    "brightness",
    "contrast",
    "fog",
    "jpeg_compression",
    "pixelate",
)
SEVERITIES = (1, 2, 3, 4, 5)
_CORRUPTED = re.compile(
    rf"(?P<base>.+)-c-(?P<corruption>{'|'.join(CORRUPTIONS)})-(?P<severity>[1-5])"
)


def corrupted_name(dataset: str, corruption: str, severity: int) -> str:
    """The dataset name of `dataset`'s test set under a corruption, as CIFAR-10-C names them:
    `{dataset}-c-{corruption}-{severity}`."""
    return f"{dataset}-c-{corruption}-{severity}"


def parse_corrupted(name: str) -> tuple[str, str, int] | None:
    """(base dataset, corruption, severity) of a corrupted set's name; None for any other name."""
    match = _CORRUPTED.fullmatch(name)
    if match is None:
        return None
    return match["base"], match["corruption"], int(match["severity"])


def model_impl(model: str, backend: str) -> ModelImpl:
    """The implementation of `model` that runs on `backend` (KeyError if there is none)."""
    return MODELS[model][BACKENDS[backend].framework]


def unsupported(
    model: str,
    act: str,
    precision: str,
    backend: str,
    impls: dict[str, ModelImpl] | None = None,
) -> str | None:
    """Why this combination cannot run, or None when it can; `impls` are the model's
    implementations when it is not built in (`tradeoffs.usermodels.model_impls`)."""
    framework = BACKENDS[backend].framework
    impls = MODELS[model] if impls is None else impls
    if framework not in impls:
        frameworks = ", ".join(sorted(impls))
        return f"model {model!r} has no {framework} implementation (it runs on: {frameworks})"
    if precision not in FRAMEWORK_PRECISIONS[framework]:
        allowed = ", ".join(FRAMEWORK_PRECISIONS[framework])
        return f"precision {precision!r} is not available on {backend} (choose from: {allowed})"
    if act not in FRAMEWORK_ACTIVATIONS[framework]:
        allowed = ", ".join(FRAMEWORK_ACTIVATIONS[framework])
        return f"activation {act!r} is not available on {backend} (choose from: {allowed})"
    return None
