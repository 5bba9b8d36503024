"""Class labels and preprocessing read from an ONNX file's metadata_props, as exporters write them; an
upload's own labels win (the pages naming classes by them: edgeorch/dashboard/tests/test_class_label.py)."""

from __future__ import annotations

import pytest
from onnx import helper

from edgeorch.catalog import metadata, services

from .test_api import upload
from .test_validation import tiny_model


def with_metadata(**props) -> bytes:
    model = tiny_model()
    helper.set_model_props(model, props)
    return model.SerializeToString()


@pytest.mark.parametrize(
    "text, labels",
    [
        ("{0: 'person', 1: 'bicycle', 2: 'car'}", ["person", "bicycle", "car"]),  # Ultralytics' names
        ('["cat", "dog"]', ["cat", "dog"]),
        ('{"1": "dog", "0": "cat"}', ["cat", "dog"]),
        ("cat, dog\nbird", ["cat", "dog", "bird"]),
    ],
)
def test_labels_are_read_as_exporters_write_them(text, labels):
    model = tiny_model()
    helper.set_model_props(model, {"names": text})
    assert metadata.read(model).labels == labels


def test_preprocessing_is_read_and_bad_values_are_skipped_with_a_note():
    model = tiny_model()
    helper.set_model_props(
        model,
        {
            "mean": "[0.485, 0.456, 0.406]",
            "std": "0.229,0.224,0.225",
            "channel_order": "BGR",
            "imgsz": "[480, 640]",
            "layout": "nhwc",
            "labels": "{5: 'gap'}",
        },
    )
    read = metadata.read(model)
    assert read.preprocess == {
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
        "color": "bgr",
        "layout": "NHWC",
        "resize": [480, 640],
    }
    assert read.labels == [] and read.notes == ["metadata 'labels': not a list of labels, ignored"]


@pytest.mark.django_db
def test_a_registered_model_keeps_its_metadata_labels_unless_the_upload_gives_its_own(client, alice, media):
    model = services.register_model(with_metadata(classes='["no", "yes"]'), name="tiny")
    assert model.labels == ["no", "yes"]
    response = upload(
        client,
        alice,
        with_metadata(classes='["no", "yes"]', author="another"),
        name="tiny2",
        labels=["off", "on"],
    )
    assert response.status_code == 201, response.content
    assert response.json()["labels"] == ["off", "on"]
