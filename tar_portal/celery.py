import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tar_portal.settings.development")

app = Celery("tar_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
