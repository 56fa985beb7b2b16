FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir .
RUN python -c "import polib; polib.pofile('portal/locale/es/LC_MESSAGES/django.po').save_as_mofile('portal/locale/es/LC_MESSAGES/django.mo')"
RUN DJANGO_SETTINGS_MODULE=tar_portal.settings.development python manage.py collectstatic --noinput
RUN useradd --system --home /app tar && mkdir -p /app/var && chown -R tar /app/var
USER tar
EXPOSE 8000
# --preload: the app (and its ICD-10-CM table) is loaded once in the master and shared by
# the workers copy-on-write (issue 16).
CMD ["gunicorn", "tar_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--preload"]
