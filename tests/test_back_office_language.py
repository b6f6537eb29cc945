"""The back office speaks the user's language everywhere, third-party pages included, and
the catalogs compile without GNU gettext (Babel), entry for entry."""

import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.contrib import admin
from django.test import Client
from django.utils import translation

from intersection.accounts.models import Role

from .conftest import login, make_user

ROOT = Path(__file__).resolve().parent.parent


def _labels() -> list[tuple[object, str]]:
    """(label, where) of every back-office list: each model's plural name and the columns it
    shows, as the models hold them (lazy translations, or plain text)."""
    labels: list[tuple[object, str]] = []
    for model, model_admin in admin.site._registry.items():
        labels.append((model._meta.verbose_name_plural, model._meta.label))
        fields = {field.name: field for field in model._meta.concrete_fields}
        for name in model_admin.list_display:
            if isinstance(name, str) and name in fields:
                labels.append((fields[name].verbose_name, f"{model._meta.label}.{name}"))
    return labels


def _untranslated(language: str, label: object) -> bool:
    """The label as shown in `language` is not the translation the catalogs hold for it (our
    own, Django's or the package's): it would show in English."""
    catalog = translation.trans_real.translation(language)._catalog  # type: ignore[attr-defined]
    with translation.override("en"):
        english = str(label)
    if english == "id":  # the same abbreviation in every language
        return False
    with translation.override(language):
        shown = str(label)
    keys = [
        english,
        *[
            key
            for key in catalog.keys()  # noqa: SIM118 - not a dict
            if str(key).endswith(f"\x04{english}")
        ],
    ]
    expected = {catalog[key] for key in keys if key in catalog}
    return not expected or shown not in expected


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "nl"])
def test_every_back_office_list_is_in_the_users_language(language: str) -> None:
    admin_user = make_user("a@example.org", role=Role.ADMIN, preferred_language=language)
    client = login(Client(), admin_user)
    for model in admin.site._registry:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{language}"' in response.content.decode()
    untranslated = [f"{where}: {label}" for label, where in _labels()
                    if _untranslated(language, label)]  # fmt: skip
    assert untranslated == [], "\n".join(untranslated)


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_babel_compiles_every_entry_as_gettext_reads_it(tmp_path: Path, language: str) -> None:
    import shutil
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from compile_messages import compile_catalogs

    shutil.copytree(ROOT / "intersection" / "locale", tmp_path / "locale")
    compile_catalogs(tmp_path / "locale")
    po_path = tmp_path / "locale" / language / "LC_MESSAGES" / "django.po"
    catalog = read_po(po_path.open("rb"), locale=language)
    with (po_path.with_suffix(".mo")).open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    checked = 0
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            got = [compiled.npgettext(message.context, singular, plural, n) if message.context
                   else compiled.ngettext(singular, plural, n) for n in (1, 5)]  # fmt: skip
            assert got == [message.string[0], message.string[1]], message.id
        elif message.context:
            assert compiled.pgettext(message.context, message.id) == message.string
        else:
            assert compiled.gettext(message.id) == message.string, message.id
        checked += 1
    assert checked > 600
