# The one image of every process: web (the default command), qcluster, sendalerts, runbot.
# docker-compose.yml runs the whole stack from it; settings come from the environment only.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/market-alerts
RUN useradd --system --uid 10001 --user-group --home-dir /opt/market-alerts \
        --shell /usr/sbin/nologin market-alerts

# Dependencies first: this layer is rebuilt only when the pins change.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are part of the image. Settings refuse to load without a SECRET_KEY, so this
# one step gets a throwaway key of its own; it is never stored in the image's environment.
RUN SECRET_KEY=collectstatic-only-not-a-secret \
    ENV_FILE=/nonexistent \
    METRICS_DIR=/tmp/collectstatic-metrics \
    python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/collectstatic-metrics

# Every process counts its metrics here; docker-compose.yml shares it between the app containers.
RUN mkdir -p /run/market-alerts/metrics && chown market-alerts:market-alerts /run/market-alerts/metrics
ENV METRICS_DIR=/run/market-alerts/metrics \
    WEB_BIND=0.0.0.0:8000

USER market-alerts
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
