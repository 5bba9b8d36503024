from django.urls import path

from .consumers import AgentConsumer
from .inbox import InboundLimit

# A device may have only so much waiting for its consumer (inbox): a flood closes its socket with 4029.
websocket_urlpatterns = [path("ws/agent/", InboundLimit(AgentConsumer.as_asgi()))]
