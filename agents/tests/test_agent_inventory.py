from __future__ import annotations

import builtins

from edgeorch_agent import __version__
from edgeorch_agent.inventory import collect_inventory, cpu_model, execution_providers


def test_cpu_model_comes_from_proc_cpuinfo(tmp_path):
    (tmp_path / "cpuinfo").write_text("processor\t: 0\nmodel name\t: Example CPU @ 2.0GHz\n")
    assert cpu_model(str(tmp_path)) == "Example CPU @ 2.0GHz"


def test_cpu_model_falls_back_to_the_board_model_on_arm(tmp_path):
    (tmp_path / "cpuinfo").write_text(
        "processor\t: 0\nBogoMIPS\t: 108.00\nModel\t\t: Raspberry Pi 4 Model B\n"
    )
    assert cpu_model(str(tmp_path)) == "Raspberry Pi 4 Model B"


def test_inventory_describes_the_device(tmp_path):
    (tmp_path / "cpuinfo").write_text("model name\t: Example CPU\n")
    inventory = collect_inventory(proc=str(tmp_path))
    assert inventory["cpu_model"] == "Example CPU"
    assert inventory["agent_version"] == __version__
    assert inventory["cpu_cores_logical"] >= 1
    assert inventory["memory_bytes"] > 0
    assert isinstance(inventory["hostname"], str) and inventory["hostname"]
    assert isinstance(inventory["execution_providers"], list)


def test_execution_providers_are_empty_without_onnxruntime(monkeypatch):
    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError("not installed")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    assert execution_providers() == []
