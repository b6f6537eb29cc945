"""The password hasher: Argon2id with OWASP's first configuration.

docs/decisions/0011-password-hasher.md says why and what it costs here.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id, t=2, m=19 MiB, p=1. Its algorithm name stays Django's `argon2`: hashes made
    with other Argon2 parameters verify and are re-hashed at their owner's next sign-in."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
