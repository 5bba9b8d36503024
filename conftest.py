"""Fixtures every test directory shares: the people of the permission tests.

alice owns the fleet (operator), bob only watches (viewer), charlie has no account at all (anonymous).
"""

import pytest

# A test that uses one of these starts a server, a worker, an agent or a browser process: it is marked e2e
# (so that `make test-fast`, which runs ``-m "not e2e and not browser"``, leaves it out) without each
# module having to say so.
PROCESS_FIXTURES = {"live_server_proc", "agents", "worker", "beat", "fleet", "browser", "page"}


def pytest_collection_modifyitems(items):
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counters (Django's default cache: this process's memory) start empty in every test, so a
    suite that enrolls and uploads many times in a minute never trips the rates it does not test."""
    from django.core.cache import cache

    cache.clear()


def _member(django_user_model, name: str, group: str):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(name, password=f"{name}-pass-123")
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def alice(django_user_model):
    """alice is an operator: she may change the fleet, upload models and run jobs."""
    return _member(django_user_model, "alice", "operators")


@pytest.fixture
def bob(django_user_model):
    """bob is a viewer: he may look at everything but change nothing."""
    return _member(django_user_model, "bob", "viewers")


@pytest.fixture
def digits(db, settings, tmp_path):
    """The digits CNN of the zoo (trained on scikit-learn's digits), registered into this test's media."""
    from edgeorch.catalog import services, zoo
    from edgeorch.catalog.choices import ModelSource

    settings.MEDIA_ROOT = tmp_path / "media"
    directory = zoo.default_zoo_dir()
    built = next(m for m in zoo.build_zoo(directory) if m.name == "digits-cnn")
    return services.register_model(
        (directory / built.file).read_bytes(),
        name=built.name,
        version=built.version,
        task=built.task,
        source=ModelSource.BUILTIN,
        labels=zoo.labels_of(built.name),
    )


@pytest.fixture
def narrow(digits):
    """The digits CNN's half-width variant from the zoo, registered as its variant (the failover fallback)."""
    from edgeorch.catalog import services, zoo
    from edgeorch.catalog.choices import ModelSource

    directory = zoo.default_zoo_dir()
    built = {m.name: m for m in zoo.build_zoo(directory)}
    digits.accuracy = built["digits-cnn"].accuracy
    digits.save(update_fields=["accuracy"])
    entry = built["digits-cnn-narrow"]
    model = services.register_model(
        (directory / entry.file).read_bytes(),
        name=entry.name,
        version=entry.version,
        task=entry.task,
        source=ModelSource.BUILTIN,
        accuracy=entry.accuracy,
    )
    model.variant_of, model.variant = digits, entry.variant
    model.save(update_fields=["variant_of", "variant"])
    return model


@pytest.fixture
def offsite_urls():
    """A page's ``src``/``href`` values that point off the control plane (the product runs with no internet:
    a script from a CDN is a blank chart). A substring like "cdn" is no test: it turns up in CSRF tokens."""
    import re

    def find(page: str) -> list[str]:
        return [
            u
            for u in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", page)
            if re.match(r"(?i)(https?:)?//", u)
        ]

    return find
