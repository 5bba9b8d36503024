"""Catalog pages: the model list with the upload form, and one model's page with its cut chart."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from edgeorch.api.permissions import is_operator
from edgeorch.api.throttles import UploadThrottle

from . import services, variants
from .charts import cut_chart_html
from .choices import ModelTask
from .models import MLModel
from .validation import ModelValidationError


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [clean_one(f, initial) for f in files]


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text="An ONNX model in one file, or a zip of the model and its external data files"
    )
    data_files = MultipleFileField(
        required=False,
        label="External data files",
        help_text="For a model saved with external data: the data files it names (or upload a zip above)",
    )
    name = forms.CharField(max_length=100)
    version = forms.CharField(max_length=40, initial="1")
    task = forms.ChoiceField(choices=ModelTask.choices, initial=ModelTask.OTHER)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    labels = forms.CharField(
        required=False,
        help_text="Class names, one per output index, comma-separated (default: the file's metadata)",
    )
    variant_of = forms.ModelChoiceField(
        queryset=MLModel.objects.order_by("name", "version"),
        required=False,
        label="Variant of",
        help_text="The model this one is a cheaper variant of (narrower, quantised…), if any",
    )
    variant = forms.CharField(max_length=60, required=False, help_text="What makes it a variant, e.g. pruned")
    dims = forms.JSONField(
        required=False,
        label="Input dimensions",
        help_text='For inputs with unknown dimensions: {"height": 640, "width": 640} by name, or '
        '{"images": [1, 3, 640, 640]}; the batch defaults to 1',
    )


@login_required
def model_list(request):
    """Every model, and (for operators) the upload form."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not is_operator(request.user):
            raise PermissionDenied("Only operators may upload models.")
        refused = _throttled(request)
        if refused is not None:
            return refused
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["labels"] = (
                [v.strip() for v in data["labels"].split(",")] if data["labels"].strip() else None
            )
            try:
                model = services.upload_model(data.pop("file"), user=request.user, **data)
            except ModelValidationError as exc:
                form.add_error(
                    "dims" if str(exc).startswith("The model's input shapes") else "file", str(exc)
                )
            else:
                messages.success(request, f"{model} was added with {model.cut_points.count()} cut points.")
                return redirect("catalog:detail", pk=model.pk)
    models = MLModel.objects.prefetch_related("cut_points")
    return render(
        request, "catalog/list.html", {"models": models, "form": form, "operator": is_operator(request.user)}
    )


def _throttled(request) -> HttpResponse | None:
    """A 429 when the user has uploaded (or made variants) too often: the API's throttle, counted with it."""
    throttle = UploadThrottle()
    if throttle.allow_request(request, None):  # type: ignore[arg-type]  # it reads the request alone
        return None
    response = HttpResponse("Too many uploads; try again later.\n", status=429, content_type="text/plain")
    response["Retry-After"] = str(int(throttle.wait() or 1) + 1)
    return response


@login_required
def model_detail(request, pk: int):
    """One model: its statistics, the cut chart and the cut table."""
    model = get_object_or_404(MLModel.objects.prefetch_related("cut_points"), pk=pk)
    context = {
        "model": model,
        "chart": cut_chart_html(model),
        "operator": is_operator(request.user),
        "variants": MLModel.objects.filter(variant_of=model).order_by("pk"),
        "variant_kinds": sorted(variants.KINDS.items()),
    }
    return render(request, "catalog/detail.html", context)


@login_required
@require_POST
def model_delete(request, pk: int):
    if not is_operator(request.user):
        raise PermissionDenied("Only operators may delete models.")
    model = get_object_or_404(MLModel, pk=pk)
    try:
        services.delete_model(model)
    except services.ModelInUse as exc:
        messages.error(request, str(exc))
        return redirect("catalog:detail", pk=pk)
    messages.success(request, f"{model} was deleted.")
    return redirect("catalog:list")


@login_required
@require_POST
def model_variant(request, pk: int):
    """Make a quantised variant of the model (``variants.create_variant``), as the API's POST does."""
    if not is_operator(request.user):
        raise PermissionDenied("Only operators may make variants.")
    refused = _throttled(request)
    if refused is not None:
        return refused
    model = get_object_or_404(MLModel, pk=pk)
    kind = request.POST.get("kind", "")
    try:
        variant = variants.create_variant(model, kind, user=request.user)
    except ModelValidationError as exc:
        messages.error(request, f"No variant was made: {exc}")
        return redirect("catalog:detail", pk=pk)
    accuracy = "not measured" if variant.accuracy is None else f"test accuracy {variant.accuracy:.4f}"
    messages.success(request, f"{variant} was made: {variant.variant}, {accuracy}.")
    return redirect("catalog:detail", pk=variant.pk)
