# One image for the control plane (web, worker, beat) and, with the same files, a local agent.
# It installs only the runtime set (requirements.txt); the model zoo is built in a throw-away stage with the
# zoo set (torch, scikit-learn) and only its ONNX files are copied in, so build_zoo finds its cache current.

FROM python:3.11-slim AS zoo
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 EDGEORCH_ZOO_DIR=/zoo
WORKDIR /app
COPY requirements.txt requirements/zoo.txt ./
RUN pip install -r requirements.txt -r zoo.txt
COPY . .
RUN python -c "from edgeorch.catalog import zoo; zoo.build_zoo(zoo.default_zoo_dir())"

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN pip install ./wire ./agents
COPY --from=zoo /zoo /zoo
ENV EDGEORCH_RUN_DIR=/data EDGEORCH_ZOO_DIR=/zoo HOST=0.0.0.0 PORT=8000 EDGEORCH_STATIC_ROOT=/app/staticfiles
# Static files collected now, under content-hashed names with gzip and Brotli copies (WhiteNoise serves them,
# cached for years): the settings see the manifest and use it. No key is needed for that, none is baked in.
RUN EDGEORCH_STATIC_MANIFEST=true EDGEORCH_ALLOW_INSECURE_KEY=true python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["./scripts/web.sh"]
