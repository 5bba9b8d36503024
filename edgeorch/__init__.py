"""edgeorch: an orchestrator for collaborative DNN inference on edge networks."""

from .celery import app as celery_app

__all__ = ["celery_app"]
