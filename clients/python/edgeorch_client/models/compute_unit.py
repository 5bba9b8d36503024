from enum import StrEnum


class ComputeUnit(StrEnum):
    CPU = "cpu"
    GPU = "gpu"
    NPU = "npu"

    def __str__(self) -> str:
        return str(self.value)
