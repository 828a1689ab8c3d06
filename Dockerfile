# Crossbot: `crossbot serve` (Slack + Teams + dashboard + scheduler) on port 3978.
# Not built on the machine that wrote it (no Docker engine there); see docs/deployment.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CROSSBOT_CONTENT_DIR=/content \
    CROSSBOT_DATABASE_URL=sqlite:////data/crossbot.db \
    CROSSBOT_HOST=0.0.0.0 \
    CROSSBOT_PORT=3978

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY prompts ./prompts
COPY content /content
# Editable, so the templates in /app/prompts are found beside the code. Compiled once here:
# PYTHONDONTWRITEBYTECODE stops writing .pyc, not reading them, so no process (a `crossbot
# ask`, a replica's start) compiles Crossbot's modules from source again.
RUN pip install -e '.[postgres]' \
    && python -m compileall -q /app/bot \
    && useradd --system --uid 10001 --home-dir /data --create-home crossbot \
    && chown -R crossbot /data

USER crossbot
VOLUME ["/data"]
EXPOSE 3978

# 200 only when the database answers (urlopen raises on 503, so the check fails).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CROSSBOT_PORT', '3978'), timeout=4)"

# Migrations also run at start, so a lone container needs no separate step.
CMD ["crossbot", "serve"]
