from django.conf import settings
from django.core.files.storage import FileSystemStorage


def private_storage() -> FileSystemStorage:
    """Files with PHI: outside the web root, no public URL; served only by checked views."""
    return FileSystemStorage(location=settings.PRIVATE_STORAGE_ROOT, base_url=None)
