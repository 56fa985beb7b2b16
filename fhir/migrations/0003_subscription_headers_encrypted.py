"""Subscription header secrets encrypted at rest (issue 14; fhir.secrets): the plaintext
"Name: value" lines of every existing subscription are sealed into `headers_sealed`, their
names kept in `header_names`, and the plaintext column dropped."""

from django.db import migrations, models


def seal_existing(apps, schema_editor):
    from fhir.secrets import seal

    Subscription = apps.get_model("fhir", "Subscription")
    for row in Subscription.objects.exclude(headers=[]).only("pk", "headers"):
        lines = [str(line) for line in row.headers or []]
        Subscription.objects.filter(pk=row.pk).update(
            headers_sealed=seal(lines),
            header_names=[line.split(":", 1)[0].strip() for line in lines],
        )


def unseal_existing(apps, schema_editor):
    from fhir.secrets import unseal

    Subscription = apps.get_model("fhir", "Subscription")
    for row in Subscription.objects.exclude(headers_sealed="").only("pk", "headers_sealed"):
        Subscription.objects.filter(pk=row.pk).update(headers=unseal(row.headers_sealed))


class Migration(migrations.Migration):
    dependencies = [("fhir", "0002_smart_clients_subscriptions_fhir_auth")]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="header_names",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="subscription",
            name="headers_sealed",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(seal_existing, unseal_existing),
        migrations.RemoveField(model_name="subscription", name="headers"),
    ]
