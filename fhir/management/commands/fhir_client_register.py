"""Register a SMART Backend Services client from the command line (the admin does the same):

    python manage.py fhir_client_register --organization "Redwood Pain Specialists" \
        --name "Redwood EHR" --jwks public.jwks.json

Prints the client id the client puts in its assertions' iss and sub."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from authorizations.models import ProviderOrganization
from fhir.auth_models import SmartScope
from fhir.smart import client_register


class Command(BaseCommand):
    help = "Register a SMART backend client of one provider organization; prints its client id."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--organization", required=True, help="The organization's name.")
        parser.add_argument("--name", required=True, help="What the client is, e.g. its EHR.")
        keys = parser.add_mutually_exclusive_group(required=True)
        keys.add_argument("--jwks", help="A file holding the client's public JWK Set.")
        keys.add_argument("--jwks-uri", help="Where the client publishes its JWK Set (https).")
        parser.add_argument(
            "--scope",
            action="append",
            choices=[s.value for s in SmartScope],
            help="A scope it may be granted (repeat); default all.",
        )
        parser.add_argument(
            "--cds-issuer",
            default="",
            help="The iss of the JWT the EHR signs its CDS Hooks calls with (CRD).",
        )

    def handle(self, *args, **options) -> None:
        organization = ProviderOrganization.objects.filter(name=options["organization"]).first()
        if organization is None:
            raise CommandError(f"No provider organization named {options['organization']!r}.")
        jwks = None
        if options["jwks"]:
            try:
                jwks = json.loads(Path(options["jwks"]).read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read the JWK Set: {exc}") from None
        try:
            client = client_register(
                name=options["name"],
                organization=organization,
                jwks=jwks,
                jwks_uri=options["jwks_uri"] or "",
                scopes=options["scope"],
                cds_issuer=options["cds_issuer"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(client.client_id)
