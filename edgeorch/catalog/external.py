"""Models with external data files (issue #18 item 3): an upload of a ``.onnx`` and the data files its
tensors' ``external_data`` locations name, or a zip of both, becomes one self-contained model with its
weights inlined, so analysis, splitting and agents handle it like any other.

The data is read in memory, never extracted to the disk, and only the files the model names are read: a zip
member or a location that is absolute or climbs out with ``..`` is refused (zip-slip), and the bytes read
(the model and its data, uncompressed) may not exceed the upload limit (zip bombs). A location naming a file
the upload lacks is refused naming it. Every refusal is a ``ModelValidationError``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath

import onnx
from google.protobuf.message import DecodeError
from onnx.external_data_helper import ExternalDataInfo, uses_external_data

from .validation import ModelValidationError

PROTOBUF_LIMIT = 2**31 - 2**20  # protobuf refuses messages of 2 GB; keep a margin for the graph


def is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive


def locations(model: onnx.ModelProto) -> list[str]:
    """The external data files the model's tensors name, in order of first use."""
    return list(dict.fromkeys(ExternalDataInfo(t).location for t in _external_tensors(model)))


def inline_files(data: bytes, files: dict[str, bytes], *, limit: int) -> tuple[bytes, list[str]]:
    """A ``.onnx`` (``data``) and data files by name → the model with its weights inlined, and a note. The
    files are matched by name to the last part of each location (uploaded files lose their folders); a
    file the model does not name is refused, as a likely mistake."""
    total = len(data) + sum(map(len, files.values()))
    if total > limit:
        raise ModelValidationError(
            f"The model and its data files are {total / 2**20:.1f} MB; the upload limit is "
            f"{limit / 2**20:.0f} MB."
        )
    model = _parse(data)
    by_location = {}
    for location in locations(model):
        _check_location(location)
        name = PurePosixPath(location).name
        if name in files:
            by_location[location] = files[name]
    unused = sorted(set(files) - {PurePosixPath(loc).name for loc in by_location})
    if unused:
        named = ", ".join(locations(model)) or "none"
        raise ModelValidationError(
            f"The model does not name the data file(s) {', '.join(unused)} (it names: {named})."
        )
    return _inline(model, by_location)


def inline_zip(data: bytes, *, limit: int) -> tuple[bytes, list[str]]:
    """A zip holding one ``.onnx`` and the data files it names (beside it, or where its locations say,
    relative to it) → the model with its weights inlined, and a note. Other members are not read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ModelValidationError(f"The zip file cannot be read: {exc}.") from None
    with archive:
        members = {_member_name(info.filename): info for info in archive.infolist() if not info.is_dir()}
        models = [name for name in members if name.lower().endswith(".onnx") and "__MACOSX" not in name]
        if len(models) != 1:
            found = ", ".join(models) or "none"
            raise ModelValidationError(f"The zip must hold exactly one .onnx file; it holds {found}.")
        budget = _Budget(limit)
        model = _parse(budget.read(archive, members[models[0]]))
        folder = PurePosixPath(models[0]).parent
        wanted = {}
        for location in locations(model):
            _check_location(location)
            member = members.get(str(folder / location))
            if member is None:
                raise ModelValidationError(
                    f"The model's data file {location!r} is not in the zip (looked for {folder / location})."
                )
            wanted[location] = member
        budget.reserve(wanted.values())
        return _inline(model, {loc: budget.read(archive, info) for loc, info in wanted.items()})


class _Budget:
    """The uncompressed bytes a zip may yield: declared sizes are checked before reading, and reading stops
    at the limit whatever the headers claim."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0

    def reserve(self, infos) -> None:
        declared = self.used + sum(info.file_size for info in infos)
        if declared > self.limit:
            self._refuse(declared)

    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        self.reserve([info])
        try:
            with archive.open(info) as handle:
                data = handle.read(self.limit - self.used + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            raise ModelValidationError(f"The zip member {info.filename} cannot be read: {exc}.") from None
        self.used += len(data)
        if self.used > self.limit:
            self._refuse(self.used)
        return data

    def _refuse(self, size: int) -> None:
        raise ModelValidationError(
            f"The zip's model and data files unpack to {size / 2**20:.1f} MB or more; the upload limit is "
            f"{self.limit / 2**20:.0f} MB."
        )


def _member_name(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or ":" in name:
        raise ModelValidationError(f"The zip holds a member with an unsafe path: {name!r}.")
    return str(path)


def _check_location(location: str) -> None:
    path = PurePosixPath(location.replace("\\", "/"))
    if not location or path.is_absolute() or ".." in path.parts or ":" in location:
        raise ModelValidationError(
            f"The model names an external data file at an unsafe location: {location!r} (only paths "
            "relative to the model, without '..', are accepted)."
        )


def _parse(data: bytes) -> onnx.ModelProto:
    try:
        return onnx.ModelProto.FromString(data)
    except (DecodeError, RuntimeError, ValueError):
        raise ModelValidationError(
            "This is not an ONNX model: the file does not parse as an ONNX protobuf."
        ) from None


def _inline(model: onnx.ModelProto, files: dict[str, bytes]) -> tuple[bytes, list[str]]:
    for tensor in _external_tensors(model):
        info = ExternalDataInfo(tensor)
        if info.location not in files:
            raise ModelValidationError(
                f"The model's data file {info.location!r} (tensor {tensor.name!r}) was not uploaded; "
                "upload it with the model (data_files) or a zip of both."
            )
        blob, offset = files[info.location], info.offset or 0
        length = info.length if info.length is not None else len(blob) - offset
        if offset < 0 or length < 0 or offset + length > len(blob):
            raise ModelValidationError(
                f"Tensor {tensor.name!r} reads bytes {offset} to {offset + length} of {info.location!r}, "
                f"which has {len(blob)}."
            )
        tensor.raw_data = blob[offset : offset + length]
        tensor.data_location = onnx.TensorProto.DEFAULT
        del tensor.external_data[:]
    if model.ByteSize() > PROTOBUF_LIMIT:
        raise ModelValidationError("With its data inlined the model is over 2 GB, protobuf's limit.")
    note = f"Weights inlined at upload from the external data file(s) {', '.join(sorted(files))}."
    return model.SerializeToString(), [note] if files else []


def _external_tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    """The tensors stored outside the model: initializers and attribute tensors, in subgraphs too."""
    return (t for t in _tensors(model.graph) if uses_external_data(t))


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    yield from (s.values for s in graph.sparse_initializer)
    for node in graph.node:
        for attr in node.attribute:
            yield from ([attr.t] if attr.HasField("t") else [])
            yield from attr.tensors
            for sub in (*([attr.g] if attr.HasField("g") else []), *attr.graphs):
                yield from _tensors(sub)
