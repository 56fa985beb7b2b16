"""A mail backend that always fails, standing in for a relay that is down (the only mocked
part besides the mail house)."""

from django.core.mail.backends.base import BaseEmailBackend


class BrokenEmailBackend(BaseEmailBackend):
    calls = 0

    def send_messages(self, email_messages):
        type(self).calls += 1
        raise ConnectionError("SMTP relay down")
