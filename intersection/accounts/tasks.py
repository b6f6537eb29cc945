"""Background jobs of the accounts module: thin wrappers around services."""

from django.tasks import task

from . import services


@task()
def send_password_reset(email: str, language: str) -> None:
    """Sent by a worker, so that asking for a known or an unknown address is the same work
    for the web server. Returns nothing: the result row does not say whether it existed."""
    services.password_reset_send(email=email, language=language)
