"""Early exits as catalog variants (docs/qos.md, "Dynamic inference").

A branchy model (BranchyNet: the zoo's ``digits-branchy``) records its exits in ``MLModel.exits``: graph
outputs, each a side classifier's logits, the last the model's own end. Each early exit becomes a model of its
own: the branchy graph cut down to what that exit's output needs (``exit_model``: onnx's extraction, the same
weights), registered as a variant of the branchy model (``MLModel.variant_of``) at its accuracy measured the
way every variant's is (on the zoo's test split of scikit-learn's digits; ``services.register_exits``).
So an exit is planned, split, deployed and chosen per frame like any variant, and no stage has to end a frame
early: the truncated model simply ends there.
"""

from __future__ import annotations

import onnx
from onnx.utils import Extractor

from .models import MLModel


def exit_model(data: bytes, output: str) -> bytes:
    """The model in ``data`` cut down to what its graph output ``output`` needs: its inputs, the nodes and
    weights between them and ``output``, and ``output`` as its only output."""
    model = onnx.load_from_string(data)
    names = {o.name for o in model.graph.output}
    if output not in names:
        raise ValueError(f"{output!r} is not an output of the model (outputs: {', '.join(sorted(names))})")
    weights = {t.name for t in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in weights]
    extracted = Extractor(model).extract_model(inputs, [output])
    onnx.checker.check_model(extracted)
    return extracted.SerializeToString()


def early_exits(model: MLModel) -> list[dict]:
    """The model's early exits (``exits`` but its end), each ``{output, accuracy}``."""
    return [e for e in (model.exits or [])[:-1] if isinstance(e, dict) and e.get("output")]


def exit_of(model: MLModel) -> int | None:
    """Which exit of the model it is a variant of ``model`` answers at (0: the first), or None (not an exit
    variant: it answers at its own end)."""
    base = model.variant_of
    if base is None or len(model.outputs) != 1:
        return None
    outputs = [e.get("output") for e in early_exits(base)]
    name = model.outputs[0].get("name")
    return outputs.index(name) if name in outputs else None
