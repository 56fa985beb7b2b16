# SMART clients, subscriptions and deliveries (fhir-auth): kept in their own module.
from fhir.auth_models import *  # noqa: F403
