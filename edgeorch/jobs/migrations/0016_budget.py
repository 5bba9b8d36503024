from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0015_dynamic_admission"),
    ]

    operations = [
        migrations.AddField(
            model_name="session",
            name="budget",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='The coordinator\'s budget for its source, as last sent: {id, deployment, edges: [{device_id, name, share, rate}], reason, at}; {}: none, no limit (docs/qos.md, "Budgets")',
            ),
        ),
        migrations.CreateModel(
            name="BudgetChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(auto_now_add=True)),
                ("budget_id", models.CharField(max_length=64)),
                (
                    "deployment",
                    models.UUIDField(blank=True, help_text="The deployment it was set for", null=True),
                ),
                (
                    "edges",
                    models.JSONField(help_text="[{device_id, name, share, rate}]; rate null: no limit there"),
                ),
                ("reason", models.TextField()),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="budget_changes",
                        to="jobs.session",
                    ),
                ),
            ],
            options={
                "ordering": ["at", "pk"],
            },
        ),
    ]
