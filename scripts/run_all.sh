#!/usr/bin/env bash
# Starts the Celery worker and beat in the background and the web server in the foreground;
# Ctrl-C (or the web server exiting) stops all three.
set -euo pipefail
PY=${PY:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
mkdir -p var/broker var/broker-processed var/broker-control var/log
CELERY=$(dirname "$PY")/celery
"$CELERY" -A tar_portal worker --loglevel=INFO --concurrency=2 >var/log/worker.log 2>&1 &
WORKER=$!
"$CELERY" -A tar_portal beat --loglevel=INFO --schedule var/celerybeat-schedule >var/log/beat.log 2>&1 &
BEAT=$!
trap 'kill $WORKER $BEAT 2>/dev/null || true' EXIT INT TERM
echo "Worker (pid $WORKER) and beat (pid $BEAT) log to var/log/."
echo "Portal: http://$HOST:$PORT/  admin: /admin/  API docs: /api/v1/docs/"
"$PY" manage.py runserver "$HOST:$PORT"
