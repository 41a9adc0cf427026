# The incident console: one image for web (uvicorn), the Celery worker and Celery beat.
# docker-compose.yml shows how the three run together on PostgreSQL and Redis.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    VAR_DIR=/app/var

RUN groupadd --system --gid 10001 console \
    && useradd --system --uid 10001 --gid console --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin console

WORKDIR /app

# Dependencies get their own layer, so a change to the code does not reinstall them. Only
# pyproject.toml is here yet: `pip install .` installs what it requires (without the dev
# extras) and none of the console's own code.
COPY pyproject.toml README.md ./
RUN pip install . && rm -rf build ./*.egg-info

# The code runs from /app (PYTHONPATH above), because the templates and static files live
# in the source tree next to it. It stays owned by root: the console only writes to VAR_DIR.
COPY . .
RUN mkdir -p /app/var && chown console:console /app/var \
    && pybabel compile -d locale -D django

USER console

# collectstatic imports the production settings, which refuse to load without a secret key
# and allowed hosts. These throwaway values exist only for this one step; they are not kept
# in the image, and the real ones come from the environment at run time.
RUN DEBUG=false \
    SECRET_KEY=build-only-collectstatic-key-never-used-at-run-time \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

EXPOSE 8000

# The web server and its options: incident_console/server.py. WEB_CONCURRENCY processes (one
# per core unless set), each with WEB_THREADS threads for pages.
CMD ["python", "-m", "incident_console.server", "--host", "0.0.0.0", "--port", "8000"]
