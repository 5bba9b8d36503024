# One image for the control plane (web, worker, beat) and, with the same files, a local agent.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN pip install ./agents
ENV EDGEORCH_RUN_DIR=/data HOST=0.0.0.0 PORT=8000
EXPOSE 8000
CMD ["./scripts/web.sh"]
