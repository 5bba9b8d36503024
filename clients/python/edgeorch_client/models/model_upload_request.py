from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..models.model_task import ModelTask
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="ModelUploadRequest")


@_attrs_define
class ModelUploadRequest:
    """
    Attributes:
        file (File):
        name (str):
        version (str | Unset):  Default: '1'.
        task (ModelTask | Unset): * `classification` - Classification
            * `detection` - Detection
            * `segmentation` - Segmentation
            * `ocr` - OCR
            * `other` - Other Default: ModelTask.OTHER.
        description (str | Unset):  Default: ''.
        preprocess (Any | Unset): How stream frames become its input, e.g. {"resize": [224, 224], "color": "rgb"}
            (edgeorch_wire.preprocess; none: frames go as they are)
        dims (Any | Unset): Values for the inputs' unknown dimensions: by symbolic name, e.g. {"height": 640, "width":
            640}, or a whole shape per input, e.g. {"images": [1, 3, 640, 640]}. Required for every unknown dimension but
            the batch (the first; default 1)
    """

    file: File
    name: str
    version: str | Unset = "1"
    task: ModelTask | Unset = ModelTask.OTHER
    description: str | Unset = ""
    preprocess: Any | Unset = UNSET
    dims: Any | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()

        name = self.name

        version = self.version

        task: str | Unset = UNSET
        if not isinstance(self.task, Unset):
            task = self.task.value

        description = self.description

        preprocess = self.preprocess

        dims = self.dims

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "file": file,
                "name": name,
            }
        )
        if version is not UNSET:
            field_dict["version"] = version
        if task is not UNSET:
            field_dict["task"] = task
        if description is not UNSET:
            field_dict["description"] = description
        if preprocess is not UNSET:
            field_dict["preprocess"] = preprocess
        if dims is not UNSET:
            field_dict["dims"] = dims

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))

        files.append(("name", (None, str(self.name).encode(), "text/plain")))

        if not isinstance(self.version, Unset):
            files.append(("version", (None, str(self.version).encode(), "text/plain")))

        if not isinstance(self.task, Unset):
            files.append(("task", (None, str(self.task.value).encode(), "text/plain")))

        if not isinstance(self.description, Unset):
            files.append(("description", (None, str(self.description).encode(), "text/plain")))

        if not isinstance(self.preprocess, Unset):
            files.append(("preprocess", (None, str(self.preprocess).encode(), "text/plain")))

        if not isinstance(self.dims, Unset):
            files.append(("dims", (None, str(self.dims).encode(), "text/plain")))

        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(payload=BytesIO(d.pop("file")))

        name = d.pop("name")

        version = d.pop("version", UNSET)

        _task = d.pop("task", UNSET)
        task: ModelTask | Unset
        if isinstance(_task, Unset):
            task = UNSET
        else:
            task = ModelTask(_task)

        description = d.pop("description", UNSET)

        preprocess = d.pop("preprocess", UNSET)

        dims = d.pop("dims", UNSET)

        model_upload_request = cls(
            file=file,
            name=name,
            version=version,
            task=task,
            description=description,
            preprocess=preprocess,
            dims=dims,
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
