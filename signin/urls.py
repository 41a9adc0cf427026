"""Sign-in URLs, mounted under /accounts/.

Only the pages a roster member needs are mounted. allauth's sign-up, password reset and
change, email management, connected accounts and authenticator management are not: people
are added by their district, and break-glass accounts by ``manage.py break_glass``.
"""

from allauth.account.views import account_inactive
from allauth.socialaccount.providers.google import views as google_views
from allauth.socialaccount.providers.microsoft import views as microsoft_views
from allauth.socialaccount.views import login_cancelled, login_error
from django.urls import path

from signin import views

sign_in = views.throttled(views.posted_username)(views.SignInView.as_view())
sign_out = views.SignOutView.as_view()

urlpatterns = [
    # "login" and "logout" are the names the rest of the console uses; allauth reverses its own.
    path("login/", sign_in, name="login"),
    path("login/", sign_in, name="account_login"),
    path("logout/", sign_out, name="logout"),
    path("logout/", sign_out, name="account_logout"),
    path(
        "login/code/",
        views.throttled(views.pending_username)(views.CodeView.as_view()),
        name="mfa_authenticate",
    ),
    path(
        "login/district/",
        views.throttled(views.posted_email)(views.provider_start),
        name="provider_start",
    ),
    path("inactive/", account_inactive, name="account_inactive"),
    # Answers 404 unless DEMO_MODE is on.
    path("demo/<int:user_id>/", views.demo_sign_in, name="demo_sign_in"),
    path(
        "google/login/callback/",
        views.provider_callback(google_views.oauth2_callback),
        name="google_callback",
    ),
    path(
        "microsoft/login/callback/",
        views.provider_callback(microsoft_views.oauth2_callback),
        name="microsoft_callback",
    ),
    path("provider/cancelled/", login_cancelled, name="socialaccount_login_cancelled"),
    path("provider/error/", login_error, name="socialaccount_login_error"),
]
