"""Uploads through the back office: logos are decoded and stored re-encoded, every upload
has a size limit stated in its help text and its error, and too large bodies get a 413."""

import io
import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image, PngImagePlugin

from intersection.accounts.models import Role
from intersection.network.models import Agreement, Organisation

from .conftest import login, make_user

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def admin_client(client: Client) -> Client:
    return login(client, make_user("root@example.org", role=Role.ADMIN))


def _empty_formset(prefix: str) -> dict[str, str]:
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}


def _add_organisation(client: Client, logo: SimpleUploadedFile) -> Any:
    data = {
        "slug": "zone-test",
        "kind": "police_zone",
        "name_fr": "Zone test",
        "country": "BE",
        "logo": logo,
        **_empty_formset("memberships"),
    }
    return client.post("/admin/network/organisation/add/", data, headers=EN)


def _png(size: tuple[int, int] = (40, 20), *, noise: bool = False, comment: str = "") -> bytes:
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGBA", size, (200, 30, 30, 128))
    info = PngImagePlugin.PngInfo()
    if comment:
        info.add_text("Comment", comment)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_it_refuses_a_web_page_named_like_an_image(admin_client: Client) -> None:
    page = b"<html><script>alert(document.cookie)</script></html>"
    response = _add_organisation(admin_client, SimpleUploadedFile("logo.png", page, "image/png"))
    assert response.status_code == 200
    assert "This file is not a PNG, JPEG or WebP image, or it is damaged." in (
        response.content.decode()
    )
    assert not Organisation.objects.exists()


def test_it_states_and_applies_the_logo_size_limit(admin_client: Client) -> None:
    form = admin_client.get("/admin/network/organisation/add/", headers=EN).content.decode()
    assert "A PNG, JPEG or WebP image of at most 2 MB" in form
    big = _png((1000, 1000), noise=True)  # random pixels do not compress: about 3 MB
    response = _add_organisation(admin_client, SimpleUploadedFile("logo.png", big, "image/png"))
    assert response.status_code == 200
    size = f"{len(big) / 1024 / 1024:.1f}\xa0MB"
    assert f"This file is {size}: files of at most 2.0\xa0MB are accepted." in (
        response.content.decode()
    )
    assert not Organisation.objects.exists()


def test_it_refuses_an_image_with_too_many_pixels(admin_client: Client) -> None:
    # Small files that would take a hundred megabytes and more once decoded.
    for side in (5_000, 20_000):
        bomb = io.BytesIO()
        Image.new("1", (side, side)).save(bomb, "PNG")
        assert len(bomb.getvalue()) < 100_000
        upload = SimpleUploadedFile("logo.png", bomb.getvalue(), "image/png")
        response = _add_organisation(admin_client, upload)
        assert response.status_code == 200
        assert "This image has too many pixels: at most 16 million are accepted." in (
            response.content.decode()
        )
    assert not Organisation.objects.exists()


def test_it_stores_a_logo_re_encoded_without_its_metadata(admin_client: Client) -> None:
    original = _png(comment="GPS 50.85N 4.35E, taken at home")
    response = _add_organisation(
        admin_client, SimpleUploadedFile("logo.png", original, "image/png")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    logo = Organisation.objects.get(slug="zone-test").logo
    stored = logo.read()
    assert logo.name.endswith(".png")
    assert stored != original and b"GPS" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size, image.mode) == ("PNG", (40, 20), "RGBA")
        assert image.getpixel((0, 0)) == (200, 30, 30, 128)


def test_it_names_a_logo_after_what_it_really_is(admin_client: Client) -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (30, 30), (0, 90, 180)).save(jpeg, "JPEG")
    upload = SimpleUploadedFile("logo.png", jpeg.getvalue(), "image/png")
    assert _add_organisation(admin_client, upload).status_code == 302
    logo = Organisation.objects.get(slug="zone-test").logo
    assert logo.name.endswith("/logo.jpg")
    with Image.open(logo.open("rb")) as image:
        assert image.format == "JPEG"


def _add_agreement(client: Client, pdf: SimpleUploadedFile) -> Any:
    data = {
        "reference": "BIG-1",
        "title_fr": "Protocole",
        "kind": "partnership",
        "renewal": "none",
        "signed_pdf": pdf,
        **_empty_formset("party_links"),
        **_empty_formset("signatories"),
        **_empty_formset("grants"),
    }
    return client.post("/admin/network/agreement/add/", data, headers=EN)


def test_it_states_and_applies_the_signed_agreement_size_limit(admin_client: Client) -> None:
    form = admin_client.get("/admin/network/agreement/add/", headers=EN).content.decode()
    assert "A PDF document of at most 20 MB." in form
    pdf = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024)
    response = _add_agreement(admin_client, SimpleUploadedFile("signed.pdf", pdf))
    assert response.status_code == 200  # under the request limit: the form says why
    assert "This file is 20.0\xa0MB: files of at most 20.0\xa0MB are accepted." in (
        response.content.decode()
    )
    assert not Agreement.objects.exists()
    small = _add_agreement(admin_client, SimpleUploadedFile("signed.pdf", b"%PDF-1.7\n%%EOF\n"))
    assert small.status_code == 302, small.content.decode()[:3000]


def test_it_refuses_a_request_body_over_the_limit_before_reading_it(
    admin_client: Client, settings: Any
) -> None:
    settings.REQUEST_BODY_MAX_BYTES = 1024 * 1024  # the real one is 21 MB
    pdf = b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024)
    response = _add_agreement(admin_client, SimpleUploadedFile("signed.pdf", pdf))
    assert response.status_code == 413
    message = "The request is too large (2.0\xa0MB): the limit is 1.0\xa0MB."
    assert message in response.content.decode()
    assert not Agreement.objects.exists()
