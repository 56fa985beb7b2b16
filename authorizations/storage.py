import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """Reads PRIVATE_STORAGE_ROOT on every use, not once at import: Django builds a field's
    storage when the model class loads, so a fixed location would ignore a changed setting
    (and tests would share one directory instead of their own)."""

    @property
    def base_location(self):
        return settings.PRIVATE_STORAGE_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def private_storage() -> FileSystemStorage:
    """Files with PHI: outside the web root, no public URL; served only by checked views."""
    return PrivateStorage(base_url=None)
