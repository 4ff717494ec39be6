# Penny: one process per container; run several behind a load balancer (HTTP mode) or let Slack balance Socket Mode.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1

WORKDIR /app

# CPU-only torch first: the default PyPI torch wheel pulls several GB of CUDA libraries.
# Fall back to the plain pin where PyTorch's index is unreachable (a local wheel mirror).
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    || pip install torch==2.13.0

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY routing ./routing
COPY cache ./cache
COPY vocabulary ./vocabulary
RUN pip install .

RUN useradd --create-home --uid 10001 penny && mkdir -p /data && chown penny /data
USER 10001
ENV PENNY_DATA_DIR=/data PENNY_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=3s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2)"]

ENTRYPOINT ["penny"]
CMD ["run"]
