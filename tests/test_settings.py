"""Production settings fail loudly; secure cookies and HSTS are on with DEBUG off."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 50
SHORT_KEY = "k" * 49


def load_settings(**env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_URL"}
    }
    clean.update(env)
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps({k: getattr(settings, k) for k in "
        "['DEBUG','SESSION_COOKIE_SECURE','CSRF_COOKIE_SECURE','SECURE_HSTS_SECONDS',"
        "'SECURE_SSL_REDIRECT','SESSION_COOKIE_HTTPONLY','EMAIL_BACKEND']}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "incident_console.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secret_key():
    result = load_settings(DEBUG="false", ALLOWED_HOSTS="console.example.org")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_short_secret_key():
    result = load_settings(DEBUG="false", SECRET_KEY=SHORT_KEY, ALLOWED_HOSTS="console.example.org")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = load_settings(DEBUG="false", SECRET_KEY=GOOD_KEY)

    assert result.returncode != 0
    assert "ALLOWED_HOSTS must list" in result.stderr


def test_production_turns_on_secure_cookies_and_hsts():
    result = load_settings(DEBUG="false", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="console.example.org")

    assert result.returncode == 0, result.stderr
    assert '"SESSION_COOKIE_SECURE": true' in result.stdout
    assert '"CSRF_COOKIE_SECURE": true' in result.stdout
    assert '"SECURE_HSTS_SECONDS": 31536000' in result.stdout
    assert '"SECURE_SSL_REDIRECT": true' in result.stdout


@pytest.mark.parametrize("debug", ["", "false"])
def test_debug_is_off_unless_asked_for(debug):
    env = {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "console.example.org"}
    if debug:
        env["DEBUG"] = debug

    result = load_settings(**env)

    assert '"DEBUG": false' in result.stdout


def web_command(path: str) -> str:
    """The web process's command line as a deployment file spells it."""
    text = (ROOT / path).read_text()
    if path == "Procfile":
        return next(line for line in text.splitlines() if line.startswith("web:"))
    if path == "Dockerfile":
        command = text[text.index("CMD [") + 5 : text.rindex("]")]
        return command.replace('"', "").replace(",", " ").replace("\\", "")
    return text[text.index("  web:") :].split("depends_on")[0]


@pytest.mark.parametrize("path", ["Procfile", "Dockerfile", "docker-compose.yml"])
def test_every_deployment_runs_the_benchmarked_web_server(path):
    """Each runs the one entry point that holds the server's options, on the given address."""
    words = web_command(path).split()

    assert "incident_console.server" in words
    assert words[words.index("incident_console.server") - 1] == "-m"
    assert "--host" in words and "--port" in words
    assert "uvicorn" not in words, f"{path} starts uvicorn without the console's options"


def test_the_web_server_never_believes_forwarded_headers_by_itself():
    """Only TRUSTED_PROXY_COUNT decides: uvicorn must not rewrite the client's address from
    X-Forwarded-For, which it would for any connection from 127.0.0.1."""
    import uvicorn
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from incident_console import server

    async def app(scope, receive, send):  # pragma: no cover - never called
        pass

    config = uvicorn.Config(app, **server.CONFIG)
    config.load()

    assert not isinstance(config.loaded_app, ProxyHeadersMiddleware)
    assert server.command("127.0.0.1", 8000)[:3] == ["python", "-m", "incident_console.server"]


@pytest.mark.parametrize(
    ("debug", "backend"),
    [
        ("false", "incident_console.logs.MailLog"),
        ("true", "django.core.mail.backends.console.EmailBackend"),
    ],
)
def test_without_a_mail_server_message_bodies_are_written_only_when_debugging(debug, backend):
    result = load_settings(DEBUG=debug, SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="console.example.org")

    assert result.returncode == 0, result.stderr
    assert f'"EMAIL_BACKEND": "{backend}"' in result.stdout
