"""The built-in model zoo: architectures written in torch, exported to ONNX once and cached.

This is the only module of edgeorch that imports torch, and it does so inside functions, so that the
server and the agents import it (for the zoo's names) without torch installed. ``build_zoo(directory)``
exports every model into ``directory`` with a ``manifest.json``; the manifest records a hash of this file
and the torch version, so a second build with nothing changed is instant.

Weights are deterministic (a fixed seed per model). The random-weight networks (AlexNet, VGG, ResNet-18,
MobileNetV2) have their batch-norm statistics calibrated on random input so that activations keep a sane
range through the depth — otherwise the exactness checks would compare numbers near overflow or zero.
The digits networks are trained on scikit-learn's bundled 8×8 digits and their test accuracy is measured.

Why one module of this length: the zoo's cache key is a hash of this file, so every architecture lives here
and a change to any of them rebuilds the zoo.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
import os
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

ZOO_FORMAT = 1
SEED = 20240611
OPSET = 17
MANIFEST = "manifest.json"


class ZooUnavailable(RuntimeError):
    """The zoo is neither built nor buildable here (torch is not installed)."""


@dataclass(frozen=True)
class ZooEntry:
    """One built-in model: how to build it and what it is."""

    name: str
    task: str
    input_shape: tuple[int, ...]
    description: str
    builder: str  # the name of a function in this module returning (module, extra metadata)
    variant_of: str = ""  # a smaller variant of this zoo model (the catalog's ``variant_of``)
    variant: str = ""  # what makes it one
    quantize: str = ""  # a quantised variant: ``variants.KINDS`` applied to ``variant_of``'s export


@dataclass
class BuiltModel:
    """One exported model of the zoo, as the manifest records it."""

    name: str
    version: str
    task: str
    description: str
    file: str
    sha256: str
    input_shape: list[int]
    accuracy: float | None = None
    exits: list[dict] = field(default_factory=list)
    variant_of: str = ""
    variant: str = ""


ZOO: list[ZooEntry] = [
    ZooEntry(
        "digits-cnn",
        "classification",
        (1, 1, 8, 8),
        "Small CNN trained on scikit-learn digits.",
        "_digits_cnn",
    ),
    ZooEntry(
        "digits-cnn-narrow",
        "classification",
        (1, 1, 8, 8),
        "The digits CNN at half its width: its fallback when the full model cannot meet a deadline.",
        "_digits_cnn_narrow",
        variant_of="digits-cnn",
        variant="narrow (half width)",
    ),
    ZooEntry(
        "digits-cnn-quarter",
        "classification",
        (1, 1, 8, 8),
        "The digits CNN at a quarter of its width: the cheapest trained variant.",
        "_digits_cnn_quarter",
        variant_of="digits-cnn",
        variant="narrow (quarter width)",
    ),
    ZooEntry(
        "digits-cnn-int8",
        "classification",
        (1, 1, 8, 8),
        "The digits CNN quantised to int8 by onnxruntime, static (QDQ), calibrated on 200 training images.",
        "",
        variant_of="digits-cnn",
        variant="int8 (static, calibrated)",
        quantize="int8",
    ),
    ZooEntry(
        "digits-cnn-int8-dynamic",
        "classification",
        (1, 1, 8, 8),
        "The digits CNN quantised to int8 by onnxruntime, dynamic (activations quantised at run time).",
        "",
        variant_of="digits-cnn",
        variant="int8 (dynamic)",
        quantize="int8-dynamic",
    ),
    ZooEntry(
        "digits-branchy",
        "classification",
        (1, 1, 8, 8),
        "Digits CNN with BranchyNet-style early exits; outputs exit1, exit2 and final logits.",
        "_digits_branchy",
    ),
    ZooEntry("alexnet", "classification", (1, 3, 224, 224), "AlexNet-style conv chain.", "_alexnet"),
    ZooEntry("vgg11", "classification", (1, 3, 128, 128), "VGG-11 layout (chain of 3×3 convs).", "_vgg11"),
    ZooEntry("resnet18", "classification", (1, 3, 224, 224), "ResNet-18 (He et al. 2016).", "_resnet18"),
    ZooEntry(
        "mobilenetv2",
        "classification",
        (1, 3, 224, 224),
        "MobileNetV2 (Sandler et al. 2018).",
        "_mobilenetv2",
    ),
]


def labels_of(name: str) -> list[str]:
    """The class names of zoo model ``name``: the digits models' class i is the digit i (scikit-learn's
    digits); the others are random-weight architectures, whose classes mean nothing (none)."""
    return [f"digit {i}" for i in range(10)] if name.startswith("digits-") else []


def zoo_version() -> str:
    """A short hash of this file, the quantiser's and the torch version: any change rebuilds the zoo."""
    # The installed distribution's version, not ``torch.__version__``: importing torch takes seconds,
    # and a cached build must not pay for it.
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(Path(__file__).with_name("quantize.py").read_bytes())
    digest.update(f"{ZOO_FORMAT}:{metadata.version('torch')}".encode())
    return digest.hexdigest()[:12]


def default_zoo_dir() -> Path:
    """``$EDGEORCH_ZOO_DIR``, else ``<repo>/var/zoo``."""
    env = os.environ.get("EDGEORCH_ZOO_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "var" / "zoo"


def build_zoo(directory: Path | None = None, *, log=None) -> list[BuiltModel]:
    """Export the zoo into ``directory`` (cached: returns at once when the manifest is current)."""
    directory = Path(directory or default_zoo_dir())
    cached = load_manifest(directory)
    try:
        version = zoo_version()
    except (
        metadata.PackageNotFoundError
    ):  # no torch (the runtime image): a zoo built elsewhere is used as it is
        if cached is not None:
            return cached[1]
        raise ZooUnavailable(
            f"the model zoo is not built in {directory} and torch is not installed to build it "
            "(pip install -r requirements/zoo.txt, or copy a built zoo there)"
        ) from None
    if cached is not None and cached[0] == version:
        return cached[1]
    directory.mkdir(parents=True, exist_ok=True)
    built: list[BuiltModel] = []
    for entry in ZOO:  # a quantised variant comes after the model it quantises
        done = {b.name: b for b in built}
        built.append(
            _quantised(entry, directory, done)
            if entry.quantize
            else _build_one(entry, directory, version, log)
        )
        if log and entry.quantize:
            log(f"quantised {entry.variant_of} -> {built[-1].file}")
    manifest = {"version": version, "models": [asdict(b) for b in built]}
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2))
    tmp.replace(directory / MANIFEST)  # atomic: a half-written manifest never looks current
    return built


def load_manifest(directory: Path) -> tuple[str, list[BuiltModel]] | None:
    """The zoo version and models recorded in ``directory``, or None when there is no usable manifest."""
    path = Path(directory) / MANIFEST
    try:
        data = json.loads(path.read_text())
        models = [BuiltModel(**m) for m in data["models"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all((Path(directory) / m.file).is_file() for m in models):
        return None
    return data["version"], models


def _build_one(entry: ZooEntry, directory: Path, version: str, log) -> BuiltModel:
    import torch

    torch.manual_seed(SEED)
    module, meta = globals()[entry.builder](entry)
    module.eval()
    path = directory / f"{entry.name}-{version}.onnx"
    _export(module, entry, path, meta.get("output_names", ["logits"]))
    if log:
        log(f"exported {entry.name} -> {path.name}")
    return BuiltModel(
        name=entry.name,
        version=version,
        task=entry.task,
        description=entry.description,
        file=path.name,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        input_shape=list(entry.input_shape),
        accuracy=meta.get("accuracy"),
        exits=meta.get("exits", []),
        variant_of=entry.variant_of,
        variant=entry.variant,
    )


def _quantised(entry: ZooEntry, directory: Path, done: dict[str, BuiltModel]) -> BuiltModel:
    """A quantised variant of an exported digits model (``variants.quantize``), calibrated on the training
    split and measured on the test split."""
    from .quantize import CALIBRATION_IMAGES, measured_accuracy, quantize

    base = done[entry.variant_of]
    x_train, x_test, _, y_test = _digits_data()
    data, _ = quantize((directory / base.file).read_bytes(), entry.quantize, x_train[:CALIBRATION_IMAGES])
    path = directory / f"{entry.name}-{base.version}.onnx"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return BuiltModel(
        name=entry.name,
        version=base.version,
        task=entry.task,
        description=entry.description,
        file=path.name,
        sha256=hashlib.sha256(data).hexdigest(),
        input_shape=list(entry.input_shape),
        accuracy=measured_accuracy(data, x_test, y_test),
        variant_of=entry.variant_of,
        variant=entry.variant,
    )


def _export(module, entry: ZooEntry, path: Path, output_names: list[str]) -> None:
    import torch

    example = torch.randn(*entry.input_shape)
    tmp = path.with_suffix(".tmp")
    with torch.no_grad():
        torch.onnx.export(
            module,
            (example,),
            str(tmp),
            dynamo=False,
            opset_version=OPSET,
            input_names=["input"],
            output_names=output_names,
            do_constant_folding=True,
        )
    tmp.replace(path)


# --- Random-weight architectures --------------------------------------------------------------------


def _calibrate(module, input_shape, batches: int = 4):
    """Run random batches in train mode so batch-norm running statistics match real activations."""
    import torch

    module.train()
    with torch.no_grad():
        for _ in range(batches):
            module(torch.randn(8, *input_shape[1:]))
    module.eval()
    return module


def _alexnet(entry):
    from torch import nn

    features = nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2),
        nn.AdaptiveAvgPool2d(3),
    )
    # A narrower classifier than the original 4096-wide one keeps the file near 10 MB.
    classifier = nn.Sequential(
        nn.Flatten(),
        nn.Linear(256 * 3 * 3, 1024),
        nn.ReLU(inplace=True),
        nn.Linear(1024, 1024),
        nn.ReLU(inplace=True),
        nn.Linear(1024, 1000),
    )
    return nn.Sequential(features, classifier), {}


def _vgg11(entry):
    from torch import nn

    layers, channels = [], 3
    for width in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if width == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
        channels = width
    head = [
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(512 * 2 * 2, 1024),
        nn.ReLU(inplace=True),
        nn.Linear(1024, 1000),
    ]
    return _calibrate(nn.Sequential(*layers, *head), entry.input_shape), {}


def _resnet18(entry):
    from torch import nn

    class Basic(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.down is None else self.down(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    stages, cin = [], 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        stages += [Basic(cin, cout, stride), Basic(cout, cout, 1)]
        cin = cout
    net = nn.Sequential(
        nn.Conv2d(3, 64, 7, 2, 3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, 1),
        *stages,
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(512, 1000),
    )
    return _calibrate(net, entry.input_shape), {}


def _mobilenetv2(entry):
    from torch import nn

    def conv_bn(cin, cout, k, stride, groups=1, act=True):
        layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
        return layers + [nn.ReLU6(inplace=True)] if act else layers

    class Inverted(nn.Module):
        def __init__(self, cin, cout, stride, expand):
            super().__init__()
            hidden = cin * expand
            layers = conv_bn(cin, hidden, 1, 1) if expand != 1 else []
            layers += conv_bn(hidden, hidden, 3, stride, groups=hidden) + conv_bn(
                hidden, cout, 1, 1, act=False
            )
            self.block = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.block(x) if self.residual else self.block(x)

    blocks, cin = [], 32
    for expand, cout, repeats, stride in (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ):
        for i in range(repeats):
            blocks.append(Inverted(cin, cout, stride if i == 0 else 1, expand))
            cin = cout
    net = nn.Sequential(
        *conv_bn(3, 32, 3, 2),
        *blocks,
        *conv_bn(320, 1280, 1, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(1280, 1000),
    )
    return _calibrate(net, entry.input_shape), {}


# --- Digits: trained networks ------------------------------------------------------------------------


def _digits_data():
    """scikit-learn's bundled digits, scaled to [0, 1], split 75/25 with a fixed seed."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    return train_test_split(x, digits.target, test_size=0.25, random_state=0, stratify=digits.target)


def _digits_trunk(width: int = 16):
    """Three stages: ``width``×4×4, 2·``width``×2×2, then the classifier (``width`` 16: the digits CNN)."""
    from torch import nn

    stage1 = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    stage2 = nn.Sequential(nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    stage3 = nn.Sequential(nn.Flatten(), nn.Linear(8 * width, 4 * width), nn.ReLU(), nn.Linear(4 * width, 10))
    return stage1, stage2, stage3


def _digits_cnn(entry, width: int = 16):
    from torch import nn

    net = nn.Sequential(*_digits_trunk(width))
    x_train, x_test, y_train, y_test = _digits_data()
    _train(net, x_train, y_train, lambda out: [out])
    return net, {"accuracy": _accuracy(net(_tensor(x_test)), y_test)}


def _digits_cnn_narrow(entry):
    return _digits_cnn(entry, width=8)


def _digits_cnn_quarter(entry):
    return _digits_cnn(entry, width=4)


def _digits_branchy(entry):
    import torch
    from torch import nn

    class Branchy(nn.Module):
        """BranchyNet: a side classifier after each stage; every exit is an output of the graph."""

        def __init__(self):
            super().__init__()
            self.stage1, self.stage2, self.stage3 = _digits_trunk()
            self.exit1 = nn.Sequential(nn.Flatten(), nn.Linear(256, 10))
            self.exit2 = nn.Sequential(nn.Flatten(), nn.Linear(128, 10))

        def forward(self, x):
            h1 = self.stage1(x)
            h2 = self.stage2(h1)
            return self.exit1(h1), self.exit2(h2), self.stage3(h2)

    net = Branchy()
    x_train, x_test, y_train, y_test = _digits_data()
    _train(net, x_train, y_train, list)
    with torch.no_grad():
        outs = net(_tensor(x_test))
    exits = [
        {"output": name, "accuracy": _accuracy(out, y_test)}
        for name, out in zip(("exit1", "exit2", "final"), outs, strict=True)
    ]
    return net, {
        "accuracy": exits[-1]["accuracy"],
        "exits": exits,
        "output_names": ["exit1", "exit2", "final"],
    }


def _tensor(array):
    import torch

    return torch.from_numpy(array)


def _train(net, x, y, outputs_of, epochs: int = 40) -> None:
    """Adam on full-batch-shuffled minibatches; BranchyNet weights all exits equally in the loss."""
    import torch

    generator = torch.Generator().manual_seed(SEED)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    xs, ys = _tensor(x), torch.from_numpy(y).long()
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(xs), generator=generator)
        for start in range(0, len(xs), 64):
            idx = order[start : start + 64]
            losses = [torch.nn.functional.cross_entropy(o, ys[idx]) for o in outputs_of(net(xs[idx]))]
            loss = functools.reduce(operator.add, losses)  # sum() would start from the int 0
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    net.eval()


def _accuracy(logits, labels) -> float:
    import torch

    with torch.no_grad():
        predicted = logits.argmax(dim=1).numpy()
    return round(float((predicted == labels).mean()), 4)
