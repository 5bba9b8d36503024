"""Delivery of alerts to real local receivers: an SMTP server speaking the protocol on a socket (Django's SMTP
backend talks to it through smtplib) and an HTTP server taking the webhook's POST. A receiver that is down
is recorded on the alert and never fails the evaluation or the other receiver."""

from __future__ import annotations

import email
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from edgeorch.alerts import services
from edgeorch.alerts.choices import RuleKind
from edgeorch.alerts.models import Alert, Rule

from .test_alerts import enrolled

pytestmark = [pytest.mark.django_db, pytest.mark.demo]  # also on SQLite, as `make demo` runs


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for a client to hand over a message: EHLO/HELO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        sender, recipients = "", list[str]()
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 localhost")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data[1:] if data.startswith(b"..") else data)
                self.server.messages.append((sender, recipients, b"".join(body)))  # type: ignore[attr-defined]
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def smtp(settings):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.server_address[1]
    settings.EMAIL_USE_TLS = False
    yield server.messages  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook():
    """A local HTTP server: answers 204 to a POST and keeps (path, headers, body); 500 to /broken."""
    received: list[tuple[str, dict, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            self.send_response(500 if self.path == "/broken" else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received = received  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def open_alert(**rule_fields) -> Alert:
    rule = Rule.objects.create(
        name="hot camera", kind=RuleKind.TEMPERATURE_ABOVE, threshold=70.0, **rule_fields
    )
    return Alert.objects.create(
        rule=rule, device=enrolled("camera"), value=81.0, message="81.0 °C, above 70 °C"
    )


def test_an_alert_is_emailed_through_the_mail_backend_to_a_real_smtp_server(smtp):
    alert = open_alert(emails=["ops@example.com", "oncall@example.com"])
    attempts = services.deliver(alert, "fired")
    assert attempts[0]["ok"] is True, attempts
    [(sender, recipients, raw)] = smtp
    message = email.message_from_bytes(raw)
    assert sender == "edgeorch@localhost"
    assert recipients == ["ops@example.com", "oncall@example.com"]
    assert message["Subject"] == "[edgeorch] fired: hot camera on camera"
    assert "81.0 °C, above 70 °C" in message.get_payload(decode=True).decode()
    alert.refresh_from_db()
    assert [(d["channel"], d["event"], d["ok"]) for d in alert.deliveries] == [("email", "fired", True)]


def test_an_alert_is_posted_as_json_to_a_real_webhook(webhook):
    alert = open_alert(webhook_url=webhook.url + "/hooks/edgeorch")
    services.deliver(alert, "fired")
    alert.resolve()
    services.deliver(alert, "resolved")
    assert [path for path, _, _ in webhook.received] == ["/hooks/edgeorch", "/hooks/edgeorch"]
    fired, resolved = (json.loads(body) for _, _, body in webhook.received)
    assert webhook.received[0][1]["Content-Type"] == "application/json"
    assert fired["event"] == "fired" and fired["alert"]["device_name"] == "camera"
    assert fired["alert"]["state"] == "fired" and fired["alert"]["value"] == 81.0
    assert resolved["event"] == "resolved" and resolved["alert"]["resolved_at"] is not None
    alert.refresh_from_db()
    assert [(d["event"], d["ok"]) for d in alert.deliveries] == [("fired", True), ("resolved", True)]


def test_a_failing_receiver_is_recorded_on_the_alert_and_the_other_still_gets_it(smtp, webhook):
    alert = open_alert(emails=["ops@example.com"], webhook_url=webhook.url + "/broken")
    attempts = services.deliver(alert, "fired")
    assert [(a["channel"], a["ok"]) for a in attempts] == [("email", True), ("webhook", False)]
    assert "500" in attempts[1]["error"]
    assert len(smtp) == 1
    alert.refresh_from_db()
    assert alert.deliveries[1]["ok"] is False and "500" in alert.deliveries[1]["error"]


def test_a_receiver_that_is_down_is_recorded_not_raised(settings, webhook):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    webhook_url = webhook.url + "/x"
    webhook.shutdown()
    webhook.server_close()
    alert = open_alert(emails=["ops@example.com"], webhook_url=webhook_url)
    attempts = services.deliver(alert, "fired")
    assert [a["ok"] for a in attempts] == [False, False]
    assert all(a["error"] for a in attempts)


def test_the_evaluation_enqueues_delivery_after_commit_and_the_task_delivers(
    webhook, django_capture_on_commit_callbacks, monkeypatch
):
    from edgeorch_wire import protocol as p

    from edgeorch.alerts import tasks
    from edgeorch.telemetry.services import store_batches

    sent = []
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda args, **kw: sent.append(args))
    camera = enrolled("camera")
    Rule.objects.create(
        name="hot", kind=RuleKind.TEMPERATURE_ABOVE, threshold=50.0, webhook_url=webhook.url + "/h"
    )
    store_batches(
        [(str(camera.pk), p.Telemetry(records=[p.Record(seq=0, ts=1e9, metrics={"temp.cpu": 90.0})]))]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.evaluate_rules()
    [(alert_id, event)] = sent
    tasks.deliver(alert_id, event)  # what the worker runs
    assert json.loads(webhook.received[0][2])["alert"]["id"] == alert_id
