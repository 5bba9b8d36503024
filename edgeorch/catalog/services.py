"""Catalog operations: register, upload, segment and delete models.

Files and rows must agree: a file is written (atomically, by rename) before its rows are created, and removed
again when creating the rows fails; files of deleted rows are removed after the deletion commits, unless
another row still uses them (files are content-addressed, so identical segments are shared).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Collection
from dataclasses import asdict
from pathlib import Path

import onnx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from . import exits, external, fusion, graph, metadata, preprocessing, segments, zoo
from .choices import ModelSource, ModelTask
from .models import CutPoint, MLModel, Segment, artifact_path, segment_path
from .sandbox import Limits
from .validation import ModelValidationError, ValidatedModel, validate_model_bytes

log = logging.getLogger(__name__)

BUILTIN_MAX_BYTES = 2**31  # the zoo is ours: only the protobuf limit applies


class ModelInUse(Exception):
    """The model is referenced by jobs and cannot be deleted."""


class DuplicateModel(ModelValidationError):
    """The same name and version, or the very same file, is already in the catalog."""


def register_model(
    data: bytes,
    *,
    name: str,
    version: str = "1",
    task: str = ModelTask.OTHER,
    source: str = ModelSource.UPLOAD,
    description: str = "",
    accuracy: float | None = None,
    exits: list | None = None,
    uploaded_by=None,
    max_bytes: int | None = None,
    preprocess: dict | None = None,
    dims: dict | None = None,
    labels: list | None = None,
    notes: list[str] | None = None,
) -> MLModel:
    """Validate, store and analyse a model; raises ``ModelValidationError`` and leaves nothing behind.
    ``preprocess``: how stream frames become its input (a zoo model without one gets the zoo's). ``dims``:
    values for its inputs' unknown dimensions (by symbolic name, or a whole shape per input), pinned for
    analysis, the test run, cut sizes and planning; a shape profile of a model is another version of it.
    ``labels`` (class names by output index) and ``preprocess`` default to what the file's metadata says
    (``metadata``). ``notes``: what was done to the file before (inlined data files), with validation's own
    (an opset conversion) recorded on the model."""
    _refuse_duplicate_name(name, version)
    # The zoo is ours: its test runs need no sandbox (and start-up would pay a process per model).
    limits = None if source == ModelSource.BUILTIN else upload_test_limits(len(data))
    valid = validate_model_bytes(
        data, max_bytes=max_bytes or settings.MODEL_UPLOAD_MAX_BYTES, limits=limits, dims=dims
    )
    _refuse_duplicate_file(valid)
    meta = metadata.read(valid.model)
    if preprocess is None and source == ModelSource.BUILTIN:
        preprocess = preprocessing.zoo_default(name)
    if preprocess is None and meta.preprocess is not None:
        preprocess = meta.preprocess
    labels = _labels(labels if labels is not None else meta.labels)
    try:
        preprocess = preprocessing.check(preprocess, [t.as_dict() for t in valid.analysis.inputs])
    except ValidationError as exc:
        raise ModelValidationError(" ".join(exc.messages)) from None
    path = artifact_path(valid.sha256)
    created = _write_atomically(path, valid.data)
    try:
        with transaction.atomic():
            model = _create_rows(
                valid,
                name,
                version,
                task,
                source,
                description,
                accuracy,
                exits,
                uploaded_by,
                preprocess,
                labels,
                [*(notes or []), *valid.notes],
            )
    except IntegrityError as exc:  # a concurrent upload of the same name or file won the race
        _remove_if_created(path, created)
        raise DuplicateModel(f"{name} v{version} or this very file is already in the catalog.") from exc
    except BaseException:
        _remove_if_created(path, created)
        raise
    return model


def upload_test_limits(size: int) -> Limits:
    """An upload's test run may use ``MODEL_TEST_MEMORY_BYTES`` plus four times its size (the bytes, the
    runtime's copy of the weights, their arena) and ``MODEL_TEST_TIMEOUT_S``."""
    return Limits(settings.MODEL_TEST_MEMORY_BYTES + 4 * size, settings.MODEL_TEST_TIMEOUT_S)


def upload_model(
    file,
    *,
    name: str,
    version: str = "1",
    task: str = ModelTask.OTHER,
    description="",
    user=None,
    preprocess: dict | None = None,
    dims: dict | None = None,
    labels: list | None = None,
    data_files=(),
    variant_of: MLModel | None = None,
    variant: str = "",
):
    """Register an uploaded file (a Django ``UploadedFile``), refusing it early when it is too big. A model
    with external data comes with its ``data_files`` (uploaded files), or as a zip of both (``file``); its
    weights are inlined (``external``), within the upload limit for all of it. ``variant_of``: the model it is
    a cheaper variant of (``variant`` says how)."""
    limit = settings.MODEL_UPLOAD_MAX_BYTES
    total = file.size + sum(f.size for f in data_files)
    if total > limit:
        what = "The file is" if not data_files else "The model and its data files are"
        raise ModelValidationError(
            f"{what} {total / 2**20:.1f} MB; the upload limit is {limit / 2**20:.0f} MB."
        )
    data, notes = b"".join(file.chunks()), list[str]()
    if external.is_zip(data):
        if data_files:
            raise ModelValidationError("Upload a zip of the model and its data, or the files, not both.")
        data, notes = external.inline_zip(data, limit=limit)
    elif data_files:
        files = {Path(f.name).name: b"".join(f.chunks()) for f in data_files}
        data, notes = external.inline_files(data, files, limit=limit)
    model = register_model(
        data,
        name=name,
        version=version,
        task=task,
        description=description,
        uploaded_by=user,
        max_bytes=limit,
        preprocess=preprocess,
        dims=dims,
        labels=labels,
        notes=notes,
    )
    if variant_of is not None:
        model.variant_of, model.variant = variant_of, variant or "uploaded variant"
        model.save(update_fields=["variant_of", "variant"])
    return model


def register_zoo(
    directory: Path | None = None,
    log_line=None,
    only: Collection[str] = (),
    families: Collection[str] = (),
) -> list[MLModel]:
    """Build the zoo (cached) and register each model not yet in the catalog, and each early exit of a
    branchy one as its variant (``register_exits``); ``only``: the models of these names alone (a quick
    benchmark's catalog), ``families``: these models and their zoo variants (a scenario's model, what its
    dynamic inference chooses among), else every one."""
    directory = Path(directory or zoo.default_zoo_dir())
    registered, built_models = [], zoo.build_zoo(directory, log=log_line)
    if only or families:
        built_models = [
            b for b in built_models if b.name in only or b.name in families or b.variant_of in families
        ]
    for built in built_models:
        existing = MLModel.objects.filter(name=built.name, version=built.version).first()
        if existing is None:
            existing = register_model(
                (directory / built.file).read_bytes(),
                name=built.name,
                version=built.version,
                task=built.task,
                source=ModelSource.BUILTIN,
                description=built.description,
                accuracy=built.accuracy,
                exits=built.exits,
                max_bytes=BUILTIN_MAX_BYTES,
                labels=zoo.labels_of(built.name),
            )
            if log_line:
                log_line(f"registered {existing} with {existing.cut_points.count()} cut points")
        registered.append(existing)
    _link_variants(registered, built_models)
    for model in list(registered):
        registered.extend(register_exits(model))
    return registered


def register_exits(model: MLModel) -> list[MLModel]:
    """Each early exit of a zoo model (``exits.early_exits``) as its variant ``<name>-<output>``: the graph
    cut down to that exit (``exits.exit_model``), same version, source, labels and preprocessing, at its
    accuracy measured on the zoo's digits test split (a digits model; else the exit's recorded one),
    registered once. Returns them in exit order."""
    from .quantize import measured_accuracy

    made = []
    for spec in exits.early_exits(model):
        output = str(spec["output"])
        name = f"{model.name}-{output}"[:100]
        existing = MLModel.objects.filter(name=name, version=model.version).first()
        if existing is None:
            truncated = exits.exit_model(model.artifact_path.read_bytes(), output)
            accuracy = spec.get("accuracy")
            if model.name.startswith("digits-"):  # trained on scikit-learn's digits: measured as variants are
                _, x_test, _, y_test = zoo._digits_data()
                accuracy = measured_accuracy(truncated, x_test, y_test)
            existing = register_variant(
                model,
                truncated,
                name=name,
                variant=f"early exit {output}",
                source=model.source,
                description=f"{model.name} ending at its early exit {output}.",
                accuracy=accuracy,
                max_bytes=BUILTIN_MAX_BYTES,
                labels=list(model.labels or []),
            )
        elif existing.variant_of_id != model.pk:
            existing.variant_of, existing.variant = model, f"early exit {output}"
            existing.save(update_fields=["variant_of", "variant"])
        made.append(existing)
    return made


def register_variant(model: MLModel, data: bytes, *, name: str, variant: str, **options) -> MLModel:
    """``data``, a file made from ``model`` (an early exit cut out of it, a quantised copy), registered as
    ``name`` (``register_model`` with ``options``) with ``model``'s version, task and preprocessing, and
    linked to it: ``variant_of`` ``model``, ``variant`` saying what was done."""
    made = register_model(
        data, name=name, version=model.version, task=model.task, preprocess=model.preprocess, **options
    )
    made.variant_of, made.variant = model, variant
    made.save(update_fields=["variant_of", "variant"])
    return made


def _link_variants(registered: list[MLModel], built_models: list) -> None:
    """Each zoo variant's ``variant_of``: the base model of the same zoo build."""
    by_name = {m.name: m for m in registered}
    for built in built_models:
        model, base = by_name.get(built.name), by_name.get(built.variant_of)
        if model is not None and base is not None and model.variant_of_id != base.pk:
            model.variant_of, model.variant = base, built.variant
            model.save(update_fields=["variant_of", "variant"])


def get_segments(model: MLModel, cuts: list[int]) -> list[Segment]:
    """The segments of ``model`` split at cut indices ``cuts``, extracted once and cached (rows and files)."""
    cuts = segments.check_cuts(cuts, model.cut_points.count())
    key = ",".join(map(str, cuts))
    cached = list(Segment.objects.filter(model=model, cuts=key).order_by("index"))
    if len(cached) == len(cuts) + 1 and all(s.path.is_file() for s in cached):
        return cached
    specs = extract_segments(model, cuts)
    blobs = list(_serialized(specs))
    written = [(_write_atomically(segment_path(sha), data), sha) for sha, data in blobs]
    try:
        with transaction.atomic():
            return [
                _segment_row(model, key, spec, sha, len(data))
                for spec, (sha, data) in zip(specs, blobs, strict=True)
            ]
    except BaseException:
        for created, sha in written:
            _remove_if_created(segment_path(sha), created and not Segment.objects.filter(sha256=sha).exists())
        raise


def extract_segments(model: MLModel, cuts: list[int]) -> list[segments.SegmentSpec]:
    """Segment protos of a catalog model (the stored artifact is already prepared)."""
    proto = onnx.load(str(model.artifact_path))
    analysis = graph.analyse(proto, pairs=_has_pairs(model))
    if len(analysis.cuts) != model.cut_points.count():
        raise segments.SegmentError("the stored cut points do not match the artifact; re-register the model")
    return segments.extract_segments(proto, analysis, cuts)


# Other apps say which of their records hold a model now (an active run): {app: function(model) -> names}.
# The catalog imports none of them (they import it); each registers from its AppConfig.ready.
MODEL_HOLDERS: dict[str, Callable[[MLModel], list[str]]] = {}

# Which segments a device needs now, said by the apps that send it work: {app: function(device_id, sha256,
# model ids of that file) -> bool}. A device credential downloads only those (``device_may_read_segment``).
SEGMENT_READERS: dict[str, Callable[[str, str, list[int]], bool]] = {}


def device_may_read_segment(device_id, sha256: str) -> bool:
    """Whether a device's work needs this segment file now (a stage it loads, a profile it runs): a device
    reads only the segments of the work it takes part in (issue 17, least privilege)."""
    models = list(Segment.objects.filter(sha256=sha256).values_list("model_id", flat=True).distinct())
    return any(reads(str(device_id), sha256, models) for reads in SEGMENT_READERS.values())


def delete_model(model: MLModel) -> None:
    """Delete a model from the catalog and its files from the disk; refused (``ModelInUse``) while a record
    of another app holds it (an active run: ``MODEL_HOLDERS``). A model that finished runs used stays as a
    row, marked deleted and hidden from the catalog (``LiveModels``), so their history keeps its name and
    version; its cut points stay with it, its cached segments go. Another, unused, is deleted outright."""
    holders = sorted(name for find in MODEL_HOLDERS.values() for name in find(model))
    if holders:
        raise ModelInUse(f"{model} is used by {', '.join(holders[:5])}; wait for or cancel those first.")
    shas = {model.sha256}
    segment_shas = set(model.segments.values_list("sha256", flat=True))
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: the outer transaction goes on to the soft delete
                model.delete()
        except ProtectedError:  # finished runs (or their deployments) keep the row
            model.segments.all().delete()
            model.deleted_at = timezone.now()
            model.save(update_fields=["deleted_at"])
        transaction.on_commit(lambda: _remove_unused_files(shas, segment_shas))


# --- helpers -------------------------------------------------------------------------------------


def _refuse_duplicate_name(name: str, version: str) -> None:
    same = MLModel.all_objects.filter(name=name, version=version).first()
    if same is not None and same.deleted_at is not None:
        raise DuplicateModel(
            f"{name} v{version} was deleted and runs that used it still name it; upload as a new version."
        )
    if same is not None:
        raise DuplicateModel(f"A model named {name!r} with version {version!r} is already in the catalog.")


def _refuse_duplicate_file(valid: ValidatedModel) -> None:
    same = MLModel.objects.filter(sha256=valid.sha256).first()
    if same is not None:
        raise DuplicateModel(f"This file is already in the catalog as {same}.")


def set_preprocess(model: MLModel, value: dict | None) -> MLModel:
    """Change how stream frames become the model's input (None: as they are); ``ModelValidationError``
    saying what is wrong with the spec."""
    try:
        model.preprocess = preprocessing.check(value, model.inputs)
    except ValidationError as exc:
        raise ModelValidationError(" ".join(exc.messages)) from None
    model.save(update_fields=["preprocess"])
    return model


def _labels(labels) -> list[str]:
    if not isinstance(labels, list | tuple) or not all(isinstance(v, str | int) for v in labels):
        raise ModelValidationError("labels: a list of class names, one per output index")
    if len(labels) > metadata.MAX_LABELS:
        raise ModelValidationError(f"labels: at most {metadata.MAX_LABELS} class names")
    return [str(v)[:200] for v in labels]


def _create_rows(
    valid,
    name,
    version,
    task,
    source,
    description,
    accuracy,
    exits,
    uploaded_by,
    preprocess=None,
    labels=(),
    notes=(),
) -> MLModel:
    a = valid.analysis
    costs = fusion.assess(valid.model, a)
    model = MLModel.objects.create(
        name=name,
        version=version,
        task=task,
        source=source,
        description=description,
        sha256=valid.sha256,
        source_sha256=valid.source_sha256,
        size_bytes=len(valid.data),
        opset=valid.opset,
        inputs=[t.as_dict() for t in a.inputs],
        outputs=[t.as_dict() for t in a.outputs],
        node_count=a.node_count,
        params=a.params,
        param_bytes=a.param_bytes,
        macs=a.macs,
        op_histogram=a.op_histogram,
        accuracy=accuracy,
        exits=exits or [],
        preprocess=preprocess,
        labels=list(labels),
        notes=list(notes),
        blocks=[_block_dict(b) for b in a.blocks],
        uploaded_by=uploaded_by,
    )
    CutPoint.objects.bulk_create(
        CutPoint(
            model=model,
            index=c.index,
            position=c.position,
            kind=c.kind,
            tensors=[t.as_dict() for t in c.tensors],
            bytes=c.nbytes,
            macs_before=c.macs_before,
            macs_after=c.macs_after,
            fusion_penalty=cost.penalty,
            recommended=cost.recommended,
            fusion_note=cost.note[:200],
        )
        for c, cost in zip(a.cuts, costs, strict=True)
    )
    return model


def _block_dict(block: graph.Block) -> dict:
    data = asdict(block)
    data["exits"] = list(block.exits)
    return data


def _has_pairs(model: MLModel) -> bool:
    # Pair cuts were offered at registration iff single cuts were few; asking again the same way is
    # deterministic, but the stored kinds are the record of what indices mean.
    return model.cut_points.filter(kind="pair").exists()


def _serialized(specs):
    for spec in specs:
        data = spec.model.SerializeToString()
        yield hashlib.sha256(data).hexdigest(), data


def _segment_row(model, key, spec, sha, size) -> Segment:
    row, _ = Segment.objects.update_or_create(
        model=model,
        cuts=key,
        index=spec.index,
        defaults={
            "sha256": sha,
            "size_bytes": size,
            "inputs": [t.as_dict() for t in spec.inputs],
            "outputs": [t.as_dict() for t in spec.outputs],
            "delivers": list(spec.delivers),
        },
    )
    return row


def _write_atomically(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it exists (content-addressed); True when this call created it."""
    if path.is_file():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _remove_if_created(path: Path, created: bool) -> None:
    if created:
        path.unlink(missing_ok=True)


def _remove_unused_files(model_shas: set[str], segment_shas: set[str]) -> None:
    for sha in model_shas:
        if not MLModel.objects.filter(sha256=sha).exists():
            artifact_path(sha).unlink(missing_ok=True)
    for sha in segment_shas:
        if not Segment.objects.filter(sha256=sha).exists():
            segment_path(sha).unlink(missing_ok=True)
