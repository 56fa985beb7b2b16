"""Build print batches of the member letters waiting for the mail house (beat runs the same
service on a schedule)."""

from django.core.management.base import BaseCommand

from notifications.services import print_batch_build


class Command(BaseCommand):
    help = "Merge the member letters not yet batched into PDFs for the mail house."

    def handle(self, *args, **options):
        built = 0
        while (batch := print_batch_build()) is not None:
            built += 1
            self.stdout.write(
                f"Print batch {batch.pk}: {batch.letter_count} letters, {batch.page_count} pages."
            )
        if not built:
            self.stdout.write("No member letters are waiting.")
