"""Websocket routes of the dashboard (the live-update consumer arrives with the dashboard issue)."""

websocket_urlpatterns: list = []
