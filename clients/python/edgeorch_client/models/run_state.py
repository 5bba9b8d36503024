from enum import StrEnum


class RunState(StrEnum):
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    DEPLOYING = "deploying"
    FAILED = "failed"
    PENDING = "pending"
    PLANNING = "planning"
    RUNNING = "running"

    def __str__(self) -> str:
        return str(self.value)
