"""Every command README.md and docs/*.md show works as a user types it after ``make demo`` (issue 21).

Which text is a command (the rule, kept simple):

- each line of a fenced code block tagged ``sh``, ``bash``, ``shell`` or ``console``: a line ending in ``\\``
  goes on on the next one, a leading ``$ `` prompt is dropped, and blank lines and lines that are only a
  comment are not commands;
- each inline code span outside those blocks that starts with ``make`` or a program under ``.venv/bin/``,
  followed by an argument (``make stop``, ``.venv/bin/python bench/bench_planning.py --write``; not
  ``.venv/bin/python`` alone, and not ``pip install ./agents`` or ``edgeorch-agent run``, which are typed on
  a device).

A command is named by its text without a trailing `` # comment``.

The set-up is the demo's own (``scripts/demo_setup.sh``: run folder, secret key, the settings file new
shells read, migrate, the zoo, the admin), run in a copy of the repository (every file git tracks or would
track, with the real virtual environment and the model-zoo cache linked in), so that nothing here touches
the checkout's ``var/`` or a running demo. Each command then runs with bash in that copy, in an environment
holding only what a new shell has (``PATH`` without any virtual environment, ``HOME``, ``LANG``): the demo's
settings must come from the file it wrote, as they do for a user.

Every collected command is in exactly one of ``AS_WRITTEN`` (run as it is), ``QUICK`` (run as the command
given instead: a dry run, ``--help`` or a quick mode of the same program, for the long ones and what needs
the demo's servers) and ``SKIP`` (the reason it cannot run in a test). A command in none of them (a new one)
and an entry that no document shows any more (a renamed one) fail the classification test; a command that
breaks fails its own test. A command two tests run (two documented commands with one quick form) runs once.
The file took 3 min 46 s on a shared two-core host (load average 4 to 5) once the zoo cache was built
(building it adds about 25 s, once, as it would for the catalog tests); the quick benchmarks are most of it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_TAGS = {"sh", "bash", "shell", "console"}
FENCE = re.compile(r"^[ \t]*```(\w*)[^\n]*\n(.*?)^[ \t]*```", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
INLINE_COMMAND = re.compile(r"(make|\.venv/bin/[\w.-]+)\s+\S")
COMMENT = re.compile(r"\s+#(\s.*)?$")
TIMEOUT_S = 180

pytestmark = [pytest.mark.docs, pytest.mark.e2e]


def documented_commands() -> dict[str, str]:
    """{command: the document showing it first}, in the documents' order (the rule: the module docstring)."""
    found: dict[str, str] = {}
    for doc in DOCS:
        text, where = doc.read_text(), doc.relative_to(ROOT).as_posix()
        for tag, body in FENCE.findall(text):
            if tag.lower() not in SHELL_TAGS:
                continue
            for line in re.sub(r"\s*\\\n\s*", " ", body).splitlines():
                line = line.strip().removeprefix("$ ")
                if line and not line.startswith("#"):
                    found.setdefault(COMMENT.sub("", line), where)
        for span in INLINE.findall(FENCE.sub("", text)):
            if INLINE_COMMAND.match(span.strip()):
                found.setdefault(COMMENT.sub("", span.strip()), where)
    return found


def scenario_quick(path: str) -> str:
    """``run_scenario`` needs the demo's servers and runs for minutes: the scenario file the document names
    loads (the command's own ``--help`` runs once, in the first test below)."""
    load = f"from edgeorch.scenarios.spec import load; print(load({path!r}).name)"
    return f".venv/bin/python manage.py shell -c {shlex.quote(load)}"


def make_runs(target: str, command: str) -> str:
    """A make target that runs one command: its dry run shows exactly that command (run on its own below)."""
    return f"make -n {target} | grep -Fx {shlex.quote(command)}"


AS_WRITTEN = {
    "make stop",
    "make lint",
    "make token USER=admin",
    ".venv/bin/python manage.py api_key admin",
    ".venv/bin/python bench/bench_planning.py --write",  # a few seconds; --write rewrites the copy's docs
    ".venv/bin/python bench/bench_energy.py --write",  # about two seconds, no agents; rewrites the docs
    ".venv/bin/python bench/bench_ans_scripted.py",  # about 10 s, in-process, no agents; prints a table
    ".venv/bin/python -m edgeorch_agent.emulation.netns check",
    # under a second; rewrites the copy's doc
    ".venv/bin/python -m edgeorch_wire.doc --write docs/protocol.md",
}

BC = "scenarios/bandwidth-collapse.yaml"
QUICK = {
    # Seconds; rewrites the copy's docs/openapi.yaml and clients/python from the same code. That makes the
    # copy's clients/python/setup.py newer than its install stamps: touched again, or the next make target
    # here would reinstall the copy's packages (editable, pointing into this temporary copy) into the real
    # environment the copy's .venv links to, which breaks it once the copy is deleted.
    "make client": "make client && touch .venv/.installed*",
    # Starting Daphne, Celery and three agents takes minutes on two cores and port 8000; the fixture has run
    # its set-up (scripts/demo_setup.sh) in this copy, the e2e tier runs the servers and agents.
    "make demo": "make -n demo | grep -Fx ./scripts/demo.sh && bash -n scripts/demo.sh",
    # Every benchmark's own documented command runs below, in its quick form.
    "make bench": "make -n bench",
    # The inner-loop and demo tiers of the suite, and recompiling the pinned sets (it asks the package index).
    "make test-fast": "make -n test-fast",
    "make test-demo": "make -n test-demo",
    "make requirements": "make -n requirements",
    # It rewrites the copy's files, which would hide from `make lint` (run as written) what it must find.
    "make format": "make -n format",
    f"make scenario SCENARIO={BC} REPORT=out.json": make_runs(
        f"scenario SCENARIO={BC} REPORT=out.json",
        f".venv/bin/python manage.py run_scenario {BC} --report out.json",
    ),
    f"make scenario SCENARIO={BC} REPORT=var/bc.json": make_runs(
        f"scenario SCENARIO={BC} REPORT=var/bc.json",
        f".venv/bin/python manage.py run_scenario {BC} --report var/bc.json",
    ),
    f".venv/bin/python manage.py run_scenario {BC} --report out.json": scenario_quick(BC),
    f".venv/bin/python manage.py run_scenario {BC} --report var/bc.json": scenario_quick(BC),
    ".venv/bin/python manage.py run_scenario scenarios/default.yaml --fleet-only": scenario_quick(
        "scenarios/default.yaml"
    ),
    # Benchmarks: minutes each, several with servers, agents or a PostgreSQL database of their own: a small
    # run where one takes seconds, else --help (catalog: 2.5 min at least; jobs and scenarios: Daphne, Celery
    # and agents for minutes).
    ".venv/bin/python bench/bench_catalog.py --write": ".venv/bin/python bench/bench_catalog.py --help",
    ".venv/bin/python bench/bench_telemetry.py --agents 100,300,500,800 --records 10 --seconds 20 --write": (
        ".venv/bin/python bench/bench_telemetry.py --agents 5 --records 2 --seconds 1"
    ),
    ".venv/bin/python bench/bench_dataplane.py --write": ".venv/bin/python bench/bench_dataplane.py --quick",
    # The reshaping's before/after runs (docs/benchmarks.md, "Reshaping"): the same programs, smaller.
    ".venv/bin/python bench/bench_dataplane.py": ".venv/bin/python bench/bench_dataplane.py --quick",
    ".venv/bin/python bench/bench_telemetry.py --agents 100,300 --records 10 --seconds 10": (
        ".venv/bin/python bench/bench_telemetry.py --agents 5 --records 2 --seconds 1"
    ),
    ".venv/bin/python bench/bench_jobs.py --models digits-cnn --jobs 20 --frames 200": (
        ".venv/bin/python bench/bench_jobs.py --help"
    ),
    ".venv/bin/python bench/bench_wire.py --write": ".venv/bin/python bench/bench_wire.py --quick",
    ".venv/bin/python bench/bench_jobs.py --write --profile": ".venv/bin/python bench/bench_jobs.py --help",
    ".venv/bin/python bench/bench_dashboard.py --devices 500 --every 10 --repeat 1 --write": (
        ".venv/bin/python bench/bench_dashboard.py --quick"
    ),
    # A second checkout served beside this one: this one again (the same code path, run once for both).
    ".venv/bin/python bench/bench_fleet_fill.py --devices 500 --repeat 5 --against /tmp/before": (
        ".venv/bin/python bench/bench_fleet_fill.py --quick --against ."
    ),
    ".venv/bin/python bench/bench_fleet_fill.py --devices 500 --repeat 5 --against /tmp/before-peaks": (
        ".venv/bin/python bench/bench_fleet_fill.py --quick --against ."
    ),
    ".venv/bin/python bench/bench_fleet_fill.py --devices 500 --repeat 3": (
        ".venv/bin/python bench/bench_fleet_fill.py --quick"
    ),
    ".venv/bin/python bench/bench_scenarios.py --write": ".venv/bin/python bench/bench_scenarios.py --help",
    ".venv/bin/python bench/bench_multiuser.py --write": ".venv/bin/python bench/bench_multiuser.py --help",
    ".venv/bin/python bench/bench_faults.py --write": ".venv/bin/python bench/bench_faults.py --help",
    ".venv/bin/python bench/bench_learning.py --write": ".venv/bin/python bench/bench_learning.py --help",
    ".venv/bin/python bench/bench_variants.py --write": ".venv/bin/python bench/bench_variants.py --help",
    ".venv/bin/python bench/bench_variants.py": ".venv/bin/python bench/bench_variants.py --help",
    ".venv/bin/python manage.py run_scenario scenarios/faults/edge-dies.yaml --report var/edge-dies.json": (
        scenario_quick("scenarios/faults/edge-dies.yaml")
    ),
    ".venv/bin/python manage.py run_scenario scenarios/multiuser/flash-crowd.yaml --report var/crowd.json": (
        scenario_quick("scenarios/multiuser/flash-crowd.yaml")
    ),
    ".venv/bin/python bench/bench_serving.py --write": ".venv/bin/python bench/bench_serving.py --help",
    ".venv/bin/python bench/bench_emulation.py --write": ".venv/bin/python bench/bench_emulation.py --quick",
    ".venv/bin/python bench/bench_channel_layer.py --count 300 --write": (
        ".venv/bin/python bench/bench_channel_layer.py --count 10"
    ),
    ".venv/bin/python bench/bench_commit.py --count 300 --write": (
        ".venv/bin/python bench/bench_commit.py --count 10"
    ),
    # A minute and the package index: it installs both images' sets for two architectures.
    ".venv/bin/python bench/bench_images.py --write": ".venv/bin/python bench/bench_images.py --help",
    # Minutes: Daphne twice, Celery twice, agents and a simulated fleet.
    ".venv/bin/python bench/bench_scaleout.py --write": ".venv/bin/python bench/bench_scaleout.py --help",
}

LIVE_API = (
    "needs the demo's server on port 8000 and the reader's own key and ids ($KEY, $ID, $PHONE, $EDGE); "
    "the API tests (tests/test_api_auth.py, test_enrollment.py, test_jobs_e2e.py) cover these endpoints"
)
SKIP = {
    "make test": "the whole suite, this file included: it would run itself",
    "KEY=...": "a placeholder for the reader's key (make token USER=admin, tested above, prints one)",
    'curl -s -H "Authorization: Token $KEY" '
    "http://127.0.0.1:8000/api/devices/ | python3 -m json.tool": LIVE_API,
    'curl -s -H "Authorization: Token $KEY" -H \'Content-Type: application/json\' -d \'{"name": "lab pis", '
    '"max_uses": 10, "ttl_hours": 48}\' http://127.0.0.1:8000/api/enrollment-tokens/': LIVE_API,
    'curl -s -H "Authorization: Token $KEY" '
    '"http://127.0.0.1:8000/api/devices/$ID/telemetry/?metric=cpu.percent&max_points=100"': LIVE_API,
    'curl -s -H "Authorization: Token $KEY" -H \'Content-Type: application/json\' -d \'{"model": 1, '
    '"strategy": "device-edge", "source": "\'$PHONE\'", "overrides": {"bandwidth_bps": 2e7}}\' '
    "http://127.0.0.1:8000/api/plans/ | python3 -m json.tool": LIVE_API,
    'curl -s -H "Authorization: Token $KEY" -H \'Content-Type: application/json\' -d \'{"model": '
    '"digits-cnn", "source": "\'$PHONE\'", "strategy": "split", "params": {"cut": 3, "device": "\'$EDGE\'"}, '
    '"sample": 7}\' http://127.0.0.1:8000/api/jobs/': LIVE_API,
    'curl -s -H "Authorization: Token $KEY" -F model=digits-cnn -F source=$PHONE -F input=@x.npy '
    "http://127.0.0.1:8000/api/jobs/upload/": LIVE_API,
    'curl -s -H "Authorization: Token $KEY" -o out.npy http://127.0.0.1:8000/api/jobs/1/output.npy': LIVE_API,
    # README, Scripting: the generated client's calls, as curl.
    'curl -s -H "Authorization: Token $KEY" -H \'Content-Type: application/json\' -d \'{"model": '
    '"digits-cnn", "source": "camera-pi", "sample": 7}\' http://127.0.0.1:8000/api/jobs/': LIVE_API,
    'curl -s -H "Authorization: Token $KEY" http://127.0.0.1:8000/api/jobs/1/': LIVE_API,
    'curl -s -H "Authorization: Token $KEY" '
    '"http://127.0.0.1:8000/api/sessions/$SESSION_ID/frames/?limit=100&offset=0"': LIVE_API,
    "edgeorch-agent run --config agent.json --serve-port 8001": "an enrolled device's agent, serving; "
    "tests/test_serving_e2e.py starts agents so and calls their endpoint",
    # docs/deploy.md: an operator's commands on their own hosts, cluster and devices.
    **dict.fromkeys(
        [
            "docker compose build",
            "docker compose up -d",
            "docker compose exec web python manage.py createsuperuser",
            "docker run --rm -v agent:/agent edgeorch-agent edgeorch-agent enroll "
            "--server https://edgeorch.example.com "
            '--token "$TOKEN" --config /agent/agent.json',
            "docker run -d --restart unless-stopped --network host -v agent:/agent edgeorch-agent",
        ],
        "needs a Docker daemon (none on this test host); tests/test_deploy_files.py checks the images' "
        "Dockerfiles and sets, and the compose file's commands",
    ),
    **dict.fromkeys(
        [
            "kubectl create namespace edgeorch",
            'kubectl -n edgeorch create secret generic edgeorch --from-literal=SECRET_KEY="$(python3 -c '
            "'import secrets; print(secrets.token_urlsafe(50))')\" "
            '--from-literal=POSTGRES_PASSWORD="$(python3 -c '
            "'import secrets; print(secrets.token_hex(24))')\"",
            "kubectl apply -k deploy/k8s",
        ],
        "needs a Kubernetes cluster; tests/test_deploy_files.py validates deploy/k8s against the API schemas",
    ),
    **dict.fromkeys(
        [
            'pg_dump --format=custom --file=edgeorch.dump "$DATABASE_URL"',
            "tar -C /data -czf media.tar.gz media",
            'pg_restore --clean --if-exists --no-owner --dbname="$DATABASE_URL" edgeorch.dump',
            "tar -C /data -xzf media.tar.gz",
        ],
        "a production database and model store (/data); tests/test_deploy_files.py runs the same dump and "
        "restore against a scratch PostgreSQL database",
    ),
}

COMMANDS = documented_commands()


def new_shell_env(**extra: str) -> dict[str, str]:
    """What a new login shell has: PATH (with no virtual environment on it), HOME and LANG; and ``extra``."""
    venvs = {str(Path(sys.prefix) / "bin"), str(ROOT / ".venv" / "bin")}
    if os.environ.get("VIRTUAL_ENV"):
        venvs.add(str(Path(os.environ["VIRTUAL_ENV"]) / "bin"))
    path = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p and p not in venvs]
    return {
        "PATH": os.pathsep.join(path),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        **extra,
    }


def shell(clone: Path, command: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=clone,
        env=new_shell_env(**extra),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def explain(command: str, result: subprocess.CompletedProcess) -> str:
    return (
        f"`{command}` exited {result.returncode}\n--- stdout\n{result.stdout[-3000:]}\n"
        f"--- stderr\n{result.stderr[-3000:]}"
    )


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A copy of the repository after the demo's set-up, as `make demo` leaves a fresh clone (servers aside).

    The copy has every file git tracks or would track (as they are in the work tree, times kept), a
    ``.venv`` whose entries link to the real one (its own install stamps, every one the Makefile names, so
    that no make target here ever installs into the real one), a copy of the checkout's mypy cache where it
    has one, and ``var/zoo`` linked to the zoo cache the other tests build and read (``$EDGEORCH_ZOO_DIR``,
    else the checkout's ``var/zoo``; built there if it is not current). The set-up runs as a user would type
    it in a new shell, with this test run's Redis database for the demo's.
    """
    from edgeorch.catalog import zoo

    copy = tmp_path_factory.mktemp("clone")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_symlink() or source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name, follow_symlinks=False)
    venv = copy / ".venv"
    venv.mkdir()
    stamps = set(re.findall(r"\$\(VENV\)/(\.installed[\w.-]*)", (ROOT / "Makefile").read_text()))
    for entry in (ROOT / ".venv").iterdir():
        if entry.name.startswith(".installed"):
            stamps.add(entry.name)
        else:
            (venv / entry.name).symlink_to(entry)
    for stamp in stamps:  # newer than every copied file: make never installs into the real environment
        (venv / stamp).touch()
    # The suite's own lint step (scripts/test.sh) has just type-checked these very files: `make lint` here
    # starts from its cache, as a user's second run does (mypy checks each file's hash against it).
    if (ROOT / ".mypy_cache").is_dir():
        shutil.copytree(ROOT / ".mypy_cache", copy / ".mypy_cache", symlinks=True)
    cache = zoo.default_zoo_dir().resolve()
    cache.mkdir(parents=True, exist_ok=True)
    (copy / "var").mkdir()
    (copy / "var" / "zoo").symlink_to(cache)
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
    result = shell(copy, "./scripts/demo_setup.sh", REDIS_URL=redis)
    assert result.returncode == 0, explain("./scripts/demo_setup.sh", result)
    return copy


@pytest.fixture(scope="module")
def run_once(clone):
    """``shell`` in the copy, each command once: where two tests run the same command (two documented
    commands with one quick form, or a documented command a test below also runs) the first runs it and
    the second reads its result."""
    results: dict[str, subprocess.CompletedProcess] = {}

    def run(command: str) -> subprocess.CompletedProcess:
        if command not in results:
            results[command] = shell(clone, command)
        return results[command]

    return run


# --- the issue: manage.py in a new shell after `make demo` ------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ".venv/bin/python manage.py check",
        ".venv/bin/python manage.py run_scenario --help",
        ".venv/bin/python manage.py api_key admin",
    ],
)
def test_manage_py_works_in_a_new_shell_after_the_demos_set_up(run_once, command):
    result = run_once(command)
    assert "SECRET_KEY is not set" not in result.stderr, explain(command, result)
    assert result.returncode == 0, explain(command, result)


def test_what_the_demo_writes_is_its_users_alone(clone):
    """The demo's secret key, settings file, SQLite database, admin password and models: no file of its run
    folder is readable by anyone else (0600), no folder enterable (0700); the zoo cache is shared."""
    var = clone / "var"
    modes = {
        p.relative_to(var).as_posix(): p.stat().st_mode
        for p in var.rglob("*")
        if not p.is_symlink() and var / "zoo" not in p.parents
    }
    assert {"run/secret_key", "run/demo.env", "run/admin-password", "edgeorch.sqlite3"} <= set(modes), modes
    assert {name: oct(mode) for name, mode in modes.items() if mode & 0o077} == {}


SHOW_SETTINGS = (
    ".venv/bin/python manage.py shell -c "
    "'import json; from django.conf import settings as s; print(json.dumps("
    '{"debug": s.DEBUG, "key": s.SECRET_KEY, "db": str(s.DATABASES["default"]["NAME"]), '
    '"redis": s.REDIS_URL, "public": s.PUBLIC_URL}))\''
)


def settings_in(clone: Path, **extra: str) -> dict:
    result = shell(clone, SHOW_SETTINGS, **extra)
    assert result.returncode == 0, explain(SHOW_SETTINGS, result)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_new_shell_gets_the_demos_secret_key_database_and_redis_and_what_it_sets_wins(clone):
    run = clone / "var" / "run"
    assert (run / "demo.env").stat().st_mode & 0o077 == 0
    assert settings_in(clone) == {
        "debug": True,
        "key": (run / "secret_key").read_text().strip(),
        "db": str(clone / "var" / "edgeorch.sqlite3"),
        "redis": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
        "public": "http://127.0.0.1:8000",
    }
    mine = settings_in(
        clone, REDIS_URL="redis://127.0.0.1:6379/9", EDGEORCH_PUBLIC_URL="http://edge.lan:8080"
    )
    assert (mine["redis"], mine["public"], mine["debug"]) == (
        "redis://127.0.0.1:6379/9",
        "http://edge.lan:8080",
        True,
    )
    # Production names its own key: the demo's file is not read at all.
    production = settings_in(clone, SECRET_KEY="production-key")
    assert production["debug"] is False and production["key"] == "production-key"


def test_without_the_demos_settings_file_a_new_shell_still_stops_on_the_missing_key(clone, tmp_path):
    command = ".venv/bin/python manage.py check"
    result = shell(clone, command, EDGEORCH_RUN_DIR=str(tmp_path))
    assert result.returncode != 0, explain(command, result)
    assert "SECRET_KEY is not set (set it, or DEBUG=true for development)" in result.stderr


# --- every documented command -------------------------------------------------------------------------


def test_every_documented_command_is_classified():
    shown = set(COMMANDS)
    tables = {"AS_WRITTEN": AS_WRITTEN, "QUICK": set(QUICK), "SKIP": set(SKIP)}
    unclassified = sorted(shown - set().union(*tables.values()))
    assert not unclassified, (
        "commands the docs show that no list here names (add each to AS_WRITTEN, QUICK or SKIP): "
        + "; ".join(f"{c!r} ({COMMANDS[c]})" for c in unclassified)
    )
    for name, table in tables.items():
        stale = sorted(table - shown)
        assert not stale, f"{name} names commands no document shows any more: {stale}"
    overlap = (AS_WRITTEN & set(QUICK)) | (AS_WRITTEN & set(SKIP)) | (set(QUICK) & set(SKIP))
    assert not overlap, f"in more than one list: {sorted(overlap)}"
    assert len(COMMANDS) >= 20  # the collector still finds the docs' commands


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in SKIP], ids=str)
def test_documented_command_runs(run_once, command):
    if command not in AS_WRITTEN and command not in QUICK:
        pytest.fail(f"{command!r} is in no list (test_every_documented_command_is_classified says which)")
    run = QUICK.get(command, command)
    result = run_once(run)
    assert result.returncode == 0, explain(run if run == command else f"{run}` (for `{command}`)", result)


@pytest.mark.parametrize("command", sorted(SKIP), ids=str)
def test_documented_command_skipped(command):
    pytest.skip(SKIP[command])
