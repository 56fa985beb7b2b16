"""Members read their pages in English or Spanish: their written language by default, and the
language switch changes it."""

from __future__ import annotations

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def spanish_member(world):
    world.member.written_language = "es"
    world.member.save()
    return world.member


def test_a_spanish_speaking_member_reads_spanish_by_default(client_for, spanish_member, submit):
    tar_id = submit()
    client = client_for("member")
    home = client.get("/member/")
    assert home["Content-Language"] == "es"
    page = home.content.decode()
    assert '<html lang="es">' in page
    assert "Mis solicitudes" in page
    assert "Recibida, en espera de revisión" in page
    assert "Saltar al contenido principal" in page
    detail = client.get(f"/member/tars/{tar_id}/").content.decode()
    assert "Inyección epidural de esteroides" in detail
    assert "Volver a mis solicitudes" in detail


def test_the_language_switch_wins_over_the_default(client_for, spanish_member):
    client = client_for("member")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/member/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get("/member/").content.decode()
    assert "My requests" in page and "Mis solicitudes" not in page


def test_an_english_speaking_member_reads_english(client_for, submit):
    submit()
    page = client_for("member").get("/member/").content.decode()
    assert "My requests" in page
    assert "Received, waiting for review" in page


def test_the_sign_in_page_follows_the_language_switch(client):
    client.post("/i18n/setlang/", {"language": "es", "next": "/accounts/login/"})
    page = client.get("/accounts/login/").content.decode()
    assert "Iniciar sesión" in page and "Contraseña" in page
