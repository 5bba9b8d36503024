"""What each image installs, per role and CPU architecture: the agent's set against the control plane's.

    .venv/bin/python bench/bench_images.py [--docker] [--write]

For linux/amd64 and linux/arm64, pip installs each role's pinned set as its Dockerfile does (the same
wheels: ``pip install --target … --platform … --only-binary :all:``; byte-compiled or not, and trimmed,
as the Dockerfile says) into a scratch folder, which is measured; the role's own files are added (the
agent: the wire and agent sources; the control plane: what ``COPY . .`` takes, less .dockerignore's
paths, plus the zoo's ONNX files from var/zoo). A set that lacks a wheel for an architecture fails here,
as the image build would. The base image (python:3.11-slim) comes on top: where a Docker daemon answers,
``--docker`` builds both images for this host and reports ``docker image inspect``'s sizes too. Targets
(issue 25): control plane ≤ 700 MB, agent ≤ 250 MB uncompressed. Needs the package index (or pip's
cache). With --write, replaces the "## Images" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repository root

from bench._common import machine, markdown_table, write_section  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_images.py --write"
PIP = [sys.executable, "-m", "pip"]
PLATFORMS = {  # Docker platform -> the wheel tags pip may take for it (glibc of Debian bookworm: 2.36)
    "linux/amd64": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"],
    "linux/arm64": ["manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"],
}
ROLES = {  # role -> (its pinned set, its Dockerfile)
    "agent": (ROOT / "agents" / "requirements.txt", ROOT / "agents" / "Dockerfile"),
    "control plane": (ROOT / "requirements.txt", ROOT / "Dockerfile"),
}
MB = 1e6


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def as_built(dockerfile: Path) -> tuple[bool, list[str]]:
    """How the Dockerfile installs its set: byte-compiled or not, and what it deletes from site-packages."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    installs = [ln for ln in text.splitlines() if "pip install" in ln and "-r " in ln]
    compiled = not all("--no-compile" in ln for ln in installs)
    trims = re.search(r"site-packages\s+&& rm -rf ([^&\n]+)", text)
    return compiled, trims[1].split() if trims else []


def installed(requirements: Path, dockerfile: Path, platform: str, into: Path) -> tuple[int, int]:
    """(bytes installed, packages) of ``requirements`` for ``platform``, as ``dockerfile`` leaves them."""
    compiled, trims = as_built(dockerfile)
    tags = [arg for tag in PLATFORMS[platform] for arg in ("--platform", tag)]
    subprocess.run(
        [*PIP, "install", "--quiet", "--no-deps", "--only-binary", ":all:", "--python-version", "3.11",
         "--implementation", "cp", *tags, *([] if compiled else ["--no-compile"]), "--target", str(into),
         "-r", str(requirements)],
        check=True,
    )  # fmt: skip
    for pattern in trims:
        for path in into.glob(pattern):
            shutil.rmtree(path)
    packages = len(list(into.glob("*.dist-info")))
    return size(into), packages


def own_files(role: str) -> int:
    """The role's files as its Dockerfile copies them: tracked ones (no caches), less .dockerignore's."""
    folders = ["wire/edgeorch_wire", "agents/edgeorch_agent"] if role == "agent" else []
    tracked = subprocess.run(
        ["git", "ls-files", *folders], cwd=ROOT, capture_output=True, text=True, check=True
    )
    ignored = {ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines() if ln.strip()}
    files = [ROOT / f for f in tracked.stdout.splitlines() if f.split("/")[0] not in ignored]
    zoo = ROOT / "var" / "zoo"  # the control plane's image carries the zoo its builder stage made
    return sum(size(f) for f in files if f.exists()) + (size(zoo) if zoo.exists() and role != "agent" else 0)


def docker_sizes() -> dict[str, int]:
    """Build both images for this host and read their sizes; {} where no Docker daemon answers."""
    if not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode:
        return {}
    sizes = {}
    for role, (_, dockerfile) in ROLES.items():
        tag = f"edgeorch-bench-{role.replace(' ', '-')}"
        subprocess.run(["docker", "build", "-q", "-f", str(dockerfile), "-t", tag, str(ROOT)], check=True)
        out = subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Size}}", tag],
            capture_output=True,
            text=True,
            check=True,
        )
        sizes[role] = int(out.stdout.strip())
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="replace the Images section of docs/benchmarks.md"
    )
    parser.add_argument(
        "--docker", action="store_true", help="also build both images (needs a Docker daemon)"
    )
    args = parser.parse_args()
    rows = []
    for role, (requirements, dockerfile) in ROLES.items():
        own = own_files(role)
        for platform in PLATFORMS:
            with tempfile.TemporaryDirectory(prefix="edgeorch-image-") as scratch:
                packages_bytes, packages = installed(requirements, dockerfile, platform, Path(scratch))
            rows.append(
                [role, platform, packages, f"{packages_bytes / MB:.0f}", f"{own / MB:.1f}",
                 f"{(packages_bytes + own) / MB:.0f}"]
            )  # fmt: skip
    table = markdown_table(
        ["image", "platform", "packages", "installed packages MB", "own files MB", "total above the base MB"],
        rows,
    )
    built = docker_sizes() if args.docker else {}
    lines = [f"| {role} | {n / MB:.0f} MB |" for role, n in built.items()]
    docker = (
        "\n\n`docker image inspect` on this host:\n\n| image | size |\n|---:|---:|\n" + "\n".join(lines)
        if lines
        else ""
    )
    print(table + docker)
    if args.write:
        text = (
            "## Images\n\n"
            f"`{COMMAND}` — {machine()}. Each role's pinned set installed as its Dockerfile "
            "installs it, for both architectures (bench/bench_images.py's docstring says how); the "
            "python:3.11-slim base comes on top of the last column"
            f"{'' if built else ' (no Docker daemon on this host to build and weigh the images)'}."
            f"\n\n{table}{docker}\n"
        )
        write_section(text)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
