"""Assess every stored model's cuts again with ``catalog.fusion``'s rule as it is now: a cut whose tensor is
a residual block's skip input breaks that block's fused add (and no longer counts as recommended), and the
recommended penalty limit is 0.5%. The work is 0008's."""

from django.db import migrations


def reassess_cuts(apps, schema_editor):
    from importlib import import_module

    import_module("edgeorch.catalog.migrations.0008_assess_existing_cuts").assess_existing_cuts(
        apps, schema_editor
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0008_assess_existing_cuts")]

    operations = [migrations.RunPython(reassess_cuts, migrations.RunPython.noop)]
