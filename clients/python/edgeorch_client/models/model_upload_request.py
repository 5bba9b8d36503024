from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..models.model_task import ModelTask
from ..types import UNSET, File, FileTypes, Unset

T = TypeVar("T", bound="ModelUploadRequest")


@_attrs_define
class ModelUploadRequest:
    """
    Attributes:
        file (File): The ONNX model, or a zip of it and the external data files it names (beside it)
        name (str):
        data_files (list[File] | Unset): A model with external data: the data files its tensors name (repeat the field
            for each); the weights are inlined into the stored model
        version (str | Unset):  Default: '1'.
        task (ModelTask | Unset): * `classification` - Classification
            * `detection` - Detection
            * `segmentation` - Segmentation
            * `ocr` - OCR
            * `other` - Other Default: ModelTask.OTHER.
        description (str | Unset):  Default: ''.
        preprocess (Any | Unset): How stream frames become its input, e.g. {"resize": [224, 224], "color": "rgb"}
            (edgeorch_wire.preprocess; none: frames go as they are)
        labels (list[str] | None | Unset): Class names by output index (default: the file's metadata, e.g. Ultralytics'
            names)
        dims (Any | Unset): Values for the inputs' unknown dimensions: by symbolic name, e.g. {"height": 640, "width":
            640}, or a whole shape per input, e.g. {"images": [1, 3, 640, 640]}. Required for every unknown dimension but
            the batch (the first; default 1)
        variant_of (None | str | Unset): The model this one is a cheaper variant of (an id or a name): its failover
            fallback, an arm of the qoe-bandit strategy (docs/learning.md)
        variant (str | Unset): What makes it a variant Default: ''.
    """

    file: File
    name: str
    data_files: list[File] | Unset = UNSET
    version: str | Unset = "1"
    task: ModelTask | Unset = ModelTask.OTHER
    description: str | Unset = ""
    preprocess: Any | Unset = UNSET
    labels: list[str] | None | Unset = UNSET
    dims: Any | Unset = UNSET
    variant_of: None | str | Unset = UNSET
    variant: str | Unset = ""
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()

        name = self.name

        data_files: list[FileTypes] | Unset = UNSET
        if not isinstance(self.data_files, Unset):
            data_files = []
            for data_files_item_data in self.data_files:
                data_files_item = data_files_item_data.to_tuple()

                data_files.append(data_files_item)

        version = self.version

        task: str | Unset = UNSET
        if not isinstance(self.task, Unset):
            task = self.task.value

        description = self.description

        preprocess = self.preprocess

        labels: list[str] | None | Unset
        if isinstance(self.labels, Unset):
            labels = UNSET
        elif isinstance(self.labels, list):
            labels = self.labels

        else:
            labels = self.labels

        dims = self.dims

        variant_of: None | str | Unset
        if isinstance(self.variant_of, Unset):
            variant_of = UNSET
        else:
            variant_of = self.variant_of

        variant = self.variant

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "file": file,
                "name": name,
            }
        )
        if data_files is not UNSET:
            field_dict["data_files"] = data_files
        if version is not UNSET:
            field_dict["version"] = version
        if task is not UNSET:
            field_dict["task"] = task
        if description is not UNSET:
            field_dict["description"] = description
        if preprocess is not UNSET:
            field_dict["preprocess"] = preprocess
        if labels is not UNSET:
            field_dict["labels"] = labels
        if dims is not UNSET:
            field_dict["dims"] = dims
        if variant_of is not UNSET:
            field_dict["variant_of"] = variant_of
        if variant is not UNSET:
            field_dict["variant"] = variant

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))

        files.append(("name", (None, str(self.name).encode(), "text/plain")))

        if not isinstance(self.data_files, Unset):
            for data_files_item_element in self.data_files:
                files.append(("data_files", data_files_item_element.to_tuple()))

        if not isinstance(self.version, Unset):
            files.append(("version", (None, str(self.version).encode(), "text/plain")))

        if not isinstance(self.task, Unset):
            files.append(("task", (None, str(self.task.value).encode(), "text/plain")))

        if not isinstance(self.description, Unset):
            files.append(("description", (None, str(self.description).encode(), "text/plain")))

        if not isinstance(self.preprocess, Unset):
            files.append(("preprocess", (None, str(self.preprocess).encode(), "text/plain")))

        if not isinstance(self.labels, Unset):
            if isinstance(self.labels, list):
                for labels_type_0_item_element in self.labels:
                    files.append(("labels", (None, str(labels_type_0_item_element).encode(), "text/plain")))
            else:
                files.append(("labels", (None, str(self.labels).encode(), "text/plain")))

        if not isinstance(self.dims, Unset):
            files.append(("dims", (None, str(self.dims).encode(), "text/plain")))

        if not isinstance(self.variant_of, Unset):
            if isinstance(self.variant_of, str):
                files.append(("variant_of", (None, str(self.variant_of).encode(), "text/plain")))
            else:
                files.append(("variant_of", (None, str(self.variant_of).encode(), "text/plain")))

        if not isinstance(self.variant, Unset):
            files.append(("variant", (None, str(self.variant).encode(), "text/plain")))

        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(payload=BytesIO(d.pop("file")))

        name = d.pop("name")

        _data_files = d.pop("data_files", UNSET)
        data_files: list[File] | Unset = UNSET
        if _data_files is not UNSET:
            data_files = []
            for data_files_item_data in _data_files:
                data_files_item = File(payload=BytesIO(data_files_item_data))

                data_files.append(data_files_item)

        version = d.pop("version", UNSET)

        _task = d.pop("task", UNSET)
        task: ModelTask | Unset
        if isinstance(_task, Unset):
            task = UNSET
        else:
            task = ModelTask(_task)

        description = d.pop("description", UNSET)

        preprocess = d.pop("preprocess", UNSET)

        def _parse_labels(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                labels_type_0 = cast(list[str], data)

                return labels_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        labels = _parse_labels(d.pop("labels", UNSET))

        dims = d.pop("dims", UNSET)

        def _parse_variant_of(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        variant_of = _parse_variant_of(d.pop("variant_of", UNSET))

        variant = d.pop("variant", UNSET)

        model_upload_request = cls(
            file=file,
            name=name,
            data_files=data_files,
            version=version,
            task=task,
            description=description,
            preprocess=preprocess,
            labels=labels,
            dims=dims,
            variant_of=variant_of,
            variant=variant,
        )

        model_upload_request.additional_properties = d
        return model_upload_request

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
