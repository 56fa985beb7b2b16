"""The report tests use the portal tests' signed-in clients and browser set-up."""

from tests.portal.conftest import (  # noqa: F401
    axe_js,
    browser_context_args,
    browser_type_launch_args,
    client_for,
    screenshots,
)
