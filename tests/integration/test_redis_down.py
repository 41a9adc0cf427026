"""Break-glass sign-in on the day Redis is down, against the real web server: with the test's
own redis-server stopped, the password and code sign in, the code cannot be used again
(nor after Redis returns empty), failures still count, and signing out answers 302."""

from __future__ import annotations

import http.cookiejar
import time
import urllib.error
import urllib.parse
import urllib.request

from signin.demo import current_code
from tests.integration.processes import Stack, needs_real_services

pytestmark = needs_real_services("the Redis-down sign-in test")

SEED = "tests/integration/resilience_seed.py"
PERIOD = 30  # seconds a code is valid for


class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to look at, not to follow


class Browser:
    """One browser's cookies, posting forms to the stack's web server."""

    def __init__(self, stack: Stack) -> None:
        self.origin = f"http://127.0.0.1:{stack.web_port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _Stay
        )
        self.request("GET", "/accounts/login/")  # sets the CSRF cookie

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        """The status and the Location (or body) of one answer."""
        data = None
        headers = {"Referer": self.origin + path}
        if form is not None:
            data = urllib.parse.urlencode({"csrfmiddlewaretoken": self.csrf(), **form}).encode()
        request = urllib.request.Request(self.origin + path, data, headers, method=method)
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers.get("Location") or answer.read().decode()

    def password(self, login: str, password: str) -> tuple[int, str]:
        return self.request("POST", "/accounts/login/", {"login": login, "password": password})

    def code(self, code: str) -> tuple[int, str]:
        return self.request("POST", "/accounts/login/code/", {"code": code})


def test_break_glass_sign_in_and_sign_out_with_redis_stopped(stack):
    seeded = stack.run_script(SEED, "--drafts=0", "--break-glass")
    login, password = seeded["break_glass"]["login"], seeded["break_glass"]["password"]
    stack.start_web("web")
    stack.kill(stack.redis)
    assert not stack.redis_answers()
    # The whole test uses one code: start early enough in its 30 s that it stays current.
    stack.wait_until(lambda: time.time() % PERIOD < 5, "a fresh code", PERIOD + 1)
    code = current_code()

    first = Browser(stack)
    assert first.password(login, password) == (302, "/accounts/login/code/")
    status, location = first.code(code)
    assert status == 302 and "/accounts/login" not in location, (status, location)
    assert first.request("GET", "/incidents/")[0] == 200

    replay = Browser(stack)
    assert replay.password(login, password)[0] == 302
    assert replay.code(code)[0] == 422, "a used code signed in again with Redis down"

    wrong = Browser(stack)
    assert wrong.password(login, "not-the-password")[0] == 422
    failures = stack.sql(
        "SELECT kind, count(*) FROM signin_securityevent "
        "WHERE kind IN ('password_failed', 'code_failed') GROUP BY kind ORDER BY kind"
    )
    assert failures == [("code_failed", 1), ("password_failed", 1)], failures

    assert first.request("POST", "/accounts/logout/", {})[0] == 302
    assert first.request("GET", "/incidents/")[0] == 302  # to the sign-in page

    stack.start_redis("redis-2")  # back, and empty
    again = Browser(stack)
    assert again.password(login, password)[0] == 302
    assert again.code(code)[0] == 422, "a used code signed in again after Redis came back empty"
    assert current_code() == code, "the code expired during the test, so proved nothing"
