# Rencontres École–Entreprise BFC: the app on Debian slim, as a non-root user, runtime dependencies only.
# Build: docker build -t ecole-entreprise .   Run: docker compose up (compose.yaml: volumes for data and secrets).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# DejaVu Sans for the PDF report (services/report.py looks in /usr/share/fonts/truetype/dejavu).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 app
WORKDIR /app

# The README's first command, in two layers: the environment from the lock (cached while the lock is unchanged)...
COPY requirements.lock ./
RUN python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.lock

COPY streamlit_app.py ./
COPY .streamlit/config.toml .streamlit/config.toml
COPY pages ./pages
COPY ecole_entreprise ./ecole_entreprise
COPY sheets_schema ./sheets_schema
# data/ holds the local workbook (a volume); .streamlit/secrets.toml is mounted read-only when used.
RUN mkdir -p data && chown app:app data

USER app
EXPOSE 8501
VOLUME ["/app/data"]
# Ready = settings readable, store reachable (file access, or one metadata request on Google), server answering.
HEALTHCHECK --interval=60s --timeout=15s --start-period=40s --retries=3 \
    CMD [".venv/bin/python", "-m", "ecole_entreprise", "ready", "--http", "http://127.0.0.1:8501/_stcore/health"]
# ...then the app.
CMD [".venv/bin/python", "-m", "streamlit", "run", "streamlit_app.py"]
