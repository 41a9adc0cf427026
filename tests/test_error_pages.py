"""Error pages render for requests refused before any middleware ran."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/incidents/", "/accounts/login/", "/nope/"])
def test_an_unknown_host_is_a_400_not_a_500(client, settings, path):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["console.example"]
    response = client.get(path, HTTP_HOST="attacker.example")
    assert response.status_code == 400
