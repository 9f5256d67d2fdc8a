# The portal's production image: gunicorn (default command), Celery worker and beat all run from it.
#
#   docker build -t kepu-portal .
#
# Building needs PyPI and a Debian mirror; the built image needs neither (see docs/deployment.md for
# moving it to an offline intranet with docker save / docker load).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: the Python dependencies, in a virtual environment copied whole into the runtime ---
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# pyproject.toml has `[tool.setuptools] packages = []`: `pip install .` installs the dependencies
# only; the application code is copied to /app below and run from there.
# (psycopg2-binary, as pinned in pyproject.toml, brings its own libpq: no compiler is needed.)
WORKDIR /src
COPY pyproject.toml README.md ./
RUN pip install --upgrade pip \
    && pip install .

# --- runtime ---
FROM ${PYTHON_IMAGE}

# WeasyPrint's runtime (Pango, HarfBuzz subsetting for embedded fonts) and real CJK glyphs for the
# Chinese PDF reports. No compiler, no -dev packages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        libcairo2 \
        fonts-noto-cjk \
        shared-mime-info \
        postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 kepu \
    && useradd --system --uid 10001 --gid kepu --home-dir /app --no-create-home --shell /usr/sbin/nologin kepu

COPY --from=builder /opt/venv /opt/venv

# DATA_DIR holds uploaded evidence files and generated reports (MEDIA_ROOT = DATA_DIR/media): mount
# a volume there (shared storage when there is more than one machine). Static files are collected
# into the image itself (STATIC_ROOT=/app/staticfiles), so a new image always brings its own.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
COPY . /app

# Static files at build time, with throw-away settings for this RUN only (DEBUG=false makes
# whitenoise's compressed, hashed storage apply). The code stays owned by root: read-only for the
# user that runs it.
RUN DEBUG=false \
    SECRET_KEY=build-only-not-a-secret \
    ALLOWED_HOSTS=build.invalid \
    DATA_DIR=/tmp/build-data \
    python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-data \
    && mkdir -p /data/media \
    && chown -R kepu:kepu /data

USER kepu

EXPOSE 8000

CMD ["sh", "-c", "exec gunicorn portal.wsgi:application --workers ${WEB_CONCURRENCY:-3} --bind 0.0.0.0:8000 --timeout 120 --worker-tmp-dir /dev/shm --access-logfile -"]
