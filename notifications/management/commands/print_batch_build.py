"""Build a print batch of the member letters waiting for the mail house (beat runs the same
service on a schedule)."""

from django.core.management.base import BaseCommand

from notifications.services import print_batch_build


class Command(BaseCommand):
    help = "Merge the member letters not yet batched into one PDF for the mail house."

    def handle(self, *args, **options):
        batch = print_batch_build()
        if batch is None:
            self.stdout.write("No member letters are waiting.")
        else:
            self.stdout.write(
                f"Print batch {batch.pk}: {batch.letter_count} letters, {batch.page_count} pages."
            )
