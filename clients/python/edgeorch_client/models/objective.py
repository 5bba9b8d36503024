from enum import StrEnum


class Objective(StrEnum):
    ENERGY = "energy"
    ENERGY_UNDER_DEADLINE = "energy_under_deadline"
    LATENCY = "latency"

    def __str__(self) -> str:
        return str(self.value)
