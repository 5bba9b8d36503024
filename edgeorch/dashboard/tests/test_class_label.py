"""Pages name a classifier's output by the model's labels (``MLModel.labels``: its metadata's, its upload's,
the zoo digits')."""

from __future__ import annotations


def test_the_pages_name_a_class_by_the_models_labels():
    from edgeorch.catalog.models import MLModel
    from edgeorch.dashboard.templatetags.edgeorch import class_label

    assert class_label(1, MLModel(labels=["cat", "dog"])) == "dog"
    assert class_label(7, MLModel(labels=["cat", "dog"])) == "class 7"
    assert class_label(3, MLModel(labels=[])) == "class 3"
