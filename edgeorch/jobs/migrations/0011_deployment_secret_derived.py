"""Deployment secrets are derived from SECRET_KEY (``Deployment.secret``) instead of stored. The live
deployments' agents hold the stored secret, which the derived one is not: they are retired, so the next run
deploys anew with the derived secret (an upgrade restarts the control plane, which retires them anyway when the
agents' sockets drop)."""

from django.db import migrations


def retire_live_deployments(apps, schema_editor):
    Deployment = apps.get_model("jobs", "Deployment")
    Deployment.objects.filter(state__in=["deploying", "ready"]).update(state="retired")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0010_failover_fallback")]

    operations = [
        migrations.RunPython(retire_live_deployments, migrations.RunPython.noop),
        migrations.RemoveField(model_name="deployment", name="secret"),
    ]
