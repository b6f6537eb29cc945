"""Pagination for every list endpoint of the API: limit 1–100, offset bounded."""

from django.utils.translation import gettext_noop
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 100
MAX_OFFSET = 1_000_000


class Pagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(
            25, ge=1, le=MAX_LIMIT, description=gettext_noop("Items per page (1–100).")
        )
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description=gettext_noop("Items to skip."))

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)
