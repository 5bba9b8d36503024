"""The built-in zoo: cached builds, trained digits networks, the models' shapes."""

import time

import onnx
import pytest

from edgeorch.catalog import zoo


def test_a_second_build_is_instant_and_returns_the_same_files(zoo_models):
    started = time.perf_counter()
    again = zoo.build_zoo(zoo.default_zoo_dir())
    assert time.perf_counter() - started < 1.0
    assert {m.name: m.sha256 for m in again} == {name: m.sha256 for name, (_, m) in zoo_models.items()}


def test_the_zoo_holds_the_issue_models_with_fixed_input_shapes(zoo_models):
    assert set(zoo_models) >= {"alexnet", "vgg11", "resnet18", "mobilenetv2", "digits-cnn", "digits-branchy"}
    for path, built in zoo_models.values():
        model = onnx.load(str(path), load_external_data=False)
        dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        assert dims == built.input_shape


def test_the_digits_networks_are_trained_and_their_exits_measured(zoo_models):
    cnn, branchy = zoo_models["digits-cnn"][1], zoo_models["digits-branchy"][1]
    assert cnn.accuracy > 0.9
    assert [e["output"] for e in branchy.exits] == ["exit1", "exit2", "final"]
    assert all(0.8 < e["accuracy"] <= 1.0 for e in branchy.exits)
    assert branchy.accuracy == branchy.exits[-1]["accuracy"]


def test_a_stale_or_missing_manifest_is_not_trusted(tmp_path):
    assert zoo.load_manifest(tmp_path) is None
    (tmp_path / zoo.MANIFEST).write_text('{"version": "x", "models": [{"name": "gone"}]}')
    assert zoo.load_manifest(tmp_path) is None


def test_without_torch_a_zoo_built_elsewhere_is_used_and_none_is_a_clear_error(
    zoo_models, tmp_path, monkeypatch
):
    """The runtime image has no torch: it copies a zoo built in another stage (docs: Dockerfile)."""
    import shutil

    real_version = zoo.metadata.version

    def without_torch(name):
        if name == "torch":
            raise zoo.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(zoo.metadata, "version", without_torch)
    built = tmp_path / "built"
    shutil.copytree(zoo.default_zoo_dir(), built)
    assert {m.name for m in zoo.build_zoo(built)} == set(zoo_models)
    with pytest.raises(zoo.ZooUnavailable, match="torch is not installed"):
        zoo.build_zoo(tmp_path / "empty")
