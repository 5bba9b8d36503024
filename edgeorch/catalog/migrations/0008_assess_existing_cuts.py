"""Assess the cuts of models registered before fusion costs existed (0007 gave them no penalty and every cut
recommended): read each stored artifact, analyse it as registration did and record ``catalog.fusion``'s
verdict. A model whose file is gone, or whose analysis no longer matches its stored cuts, keeps the defaults.
"""

from django.db import migrations


def assess_existing_cuts(apps, schema_editor):
    import onnx

    from edgeorch.catalog import fusion, graph
    from edgeorch.catalog.models import artifact_path

    MLModel = apps.get_model("catalog", "MLModel")
    CutPoint = apps.get_model("catalog", "CutPoint")
    for model in MLModel.objects.all():
        path = artifact_path(model.sha256)
        cuts = list(CutPoint.objects.filter(model=model).order_by("index"))
        if not cuts or not path.is_file():
            continue
        proto = onnx.load(str(path))
        analysis = graph.analyse(proto, pairs=any(c.kind == "pair" for c in cuts))
        if len(analysis.cuts) != len(cuts):
            continue
        for cut, cost in zip(cuts, fusion.assess(proto, analysis), strict=True):
            cut.fusion_penalty, cut.recommended, cut.fusion_note = (
                cost.penalty,
                cost.recommended,
                cost.note[:200],
            )
        CutPoint.objects.bulk_update(cuts, ["fusion_penalty", "recommended", "fusion_note"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0007_cut_fusion_cost")]

    operations = [migrations.RunPython(assess_existing_cuts, migrations.RunPython.noop)]
