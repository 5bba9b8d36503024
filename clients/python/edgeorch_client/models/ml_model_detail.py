from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.model_source import ModelSource
from ..models.model_task import ModelTask

if TYPE_CHECKING:
    from ..models.cut_point import CutPoint


T = TypeVar("T", bound="MLModelDetail")


@_attrs_define
class MLModelDetail:
    """
    Attributes:
        id (int):
        name (str):
        version (str):  Default: '1'.
        task (ModelTask): * `classification` - Classification
            * `detection` - Detection
            * `segmentation` - Segmentation
            * `ocr` - OCR
            * `other` - Other
        source (ModelSource): * `builtin` - Built-in zoo
            * `upload` - Uploaded
        description (str):
        sha256 (str): Of the stored (prepared) ONNX file
        source_sha256 (str): Of the file as uploaded or exported
        size_bytes (int):
        opset (int):
        inputs (Any): [{name, shape, dtype, bytes}]
        outputs (Any): [{name, shape, dtype, bytes}]
        node_count (int):
        params (int):
        param_bytes (int):
        macs (int):
        accuracy (float | None): Measured test accuracy, where known
        exits (Any): Early exits: [{output, accuracy}]
        preprocess (Any): How a stream's frames become the model's input (edgeorch_wire.preprocess: resize, color,
            scale, mean, std, layout, dtype); null: frames go as they are
        variant_of (int | None): The model this one is a cheaper variant (and failover fallback) of
        variant (str): What makes it a variant, e.g. narrow
        labels (Any): Class names by output index (the file's metadata, or as uploaded)
        notes (Any): What was done to the file at upload, one sentence each (e.g. an opset conversion)
        cut_count (int):
        created_at (datetime.datetime):
        download_url (str):
        op_histogram (Any):
        blocks (Any):
        cuts (list[CutPoint]):
    """

    id: int
    name: str
    task: ModelTask
    source: ModelSource
    description: str
    sha256: str
    source_sha256: str
    size_bytes: int
    opset: int
    inputs: Any
    outputs: Any
    node_count: int
    params: int
    param_bytes: int
    macs: int
    accuracy: float | None
    exits: Any
    preprocess: Any
    variant_of: int | None
    variant: str
    labels: Any
    notes: Any
    cut_count: int
    created_at: datetime.datetime
    download_url: str
    op_histogram: Any
    blocks: Any
    cuts: list[CutPoint]
    version: str = "1"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        version = self.version

        task = self.task.value

        source = self.source.value

        description = self.description

        sha256 = self.sha256

        source_sha256 = self.source_sha256

        size_bytes = self.size_bytes

        opset = self.opset

        inputs = self.inputs

        outputs = self.outputs

        node_count = self.node_count

        params = self.params

        param_bytes = self.param_bytes

        macs = self.macs

        accuracy: float | None
        accuracy = self.accuracy

        exits = self.exits

        preprocess = self.preprocess

        variant_of: int | None
        variant_of = self.variant_of

        variant = self.variant

        labels = self.labels

        notes = self.notes

        cut_count = self.cut_count

        created_at = self.created_at.isoformat()

        download_url = self.download_url

        op_histogram = self.op_histogram

        blocks = self.blocks

        cuts = []
        for cuts_item_data in self.cuts:
            cuts_item = cuts_item_data.to_dict()
            cuts.append(cuts_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "version": version,
                "task": task,
                "source": source,
                "description": description,
                "sha256": sha256,
                "source_sha256": source_sha256,
                "size_bytes": size_bytes,
                "opset": opset,
                "inputs": inputs,
                "outputs": outputs,
                "node_count": node_count,
                "params": params,
                "param_bytes": param_bytes,
                "macs": macs,
                "accuracy": accuracy,
                "exits": exits,
                "preprocess": preprocess,
                "variant_of": variant_of,
                "variant": variant,
                "labels": labels,
                "notes": notes,
                "cut_count": cut_count,
                "created_at": created_at,
                "download_url": download_url,
                "op_histogram": op_histogram,
                "blocks": blocks,
                "cuts": cuts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cut_point import CutPoint  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        version = d.pop("version")

        task = ModelTask(d.pop("task"))

        source = ModelSource(d.pop("source"))

        description = d.pop("description")

        sha256 = d.pop("sha256")

        source_sha256 = d.pop("source_sha256")

        size_bytes = d.pop("size_bytes")

        opset = d.pop("opset")

        inputs = d.pop("inputs")

        outputs = d.pop("outputs")

        node_count = d.pop("node_count")

        params = d.pop("params")

        param_bytes = d.pop("param_bytes")

        macs = d.pop("macs")

        def _parse_accuracy(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        accuracy = _parse_accuracy(d.pop("accuracy"))

        exits = d.pop("exits")

        preprocess = d.pop("preprocess")

        def _parse_variant_of(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        variant_of = _parse_variant_of(d.pop("variant_of"))

        variant = d.pop("variant")

        labels = d.pop("labels")

        notes = d.pop("notes")

        cut_count = d.pop("cut_count")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        download_url = d.pop("download_url")

        op_histogram = d.pop("op_histogram")

        blocks = d.pop("blocks")

        cuts = []
        _cuts = d.pop("cuts")
        for cuts_item_data in _cuts:
            cuts_item = CutPoint.from_dict(cuts_item_data)

            cuts.append(cuts_item)

        ml_model_detail = cls(
            id=id,
            name=name,
            version=version,
            task=task,
            source=source,
            description=description,
            sha256=sha256,
            source_sha256=source_sha256,
            size_bytes=size_bytes,
            opset=opset,
            inputs=inputs,
            outputs=outputs,
            node_count=node_count,
            params=params,
            param_bytes=param_bytes,
            macs=macs,
            accuracy=accuracy,
            exits=exits,
            preprocess=preprocess,
            variant_of=variant_of,
            variant=variant,
            labels=labels,
            notes=notes,
            cut_count=cut_count,
            created_at=created_at,
            download_url=download_url,
            op_histogram=op_histogram,
            blocks=blocks,
            cuts=cuts,
        )

        ml_model_detail.additional_properties = d
        return ml_model_detail

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
