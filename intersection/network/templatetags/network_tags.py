from django import template
from django.utils.html import format_html

from intersection.network.forms import STATUS_LABELS
from intersection.network.status import AgreementStatus

register = template.Library()

STATUS_VARIANTS = {
    AgreementStatus.ACTIVE: "success",
    AgreementStatus.EXPIRING: "warning",
    AgreementStatus.EXPIRED: "danger",
    AgreementStatus.TERMINATED: "danger",
    AgreementStatus.DRAFT: "neutral",
}


@register.simple_tag
def agreement_status(status: str) -> str:
    """An agreement's status as a badge: its label, in the colour and shape of its state."""
    known = AgreementStatus(status)
    return format_html(
        '<span class="badge badge-{}">{}</span>', STATUS_VARIANTS[known], STATUS_LABELS[known]
    )
