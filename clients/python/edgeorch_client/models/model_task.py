from enum import StrEnum


class ModelTask(StrEnum):
    CLASSIFICATION = "classification"
    DETECTION = "detection"
    OCR = "ocr"
    OTHER = "other"
    SEGMENTATION = "segmentation"

    def __str__(self) -> str:
        return str(self.value)
