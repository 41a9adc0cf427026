"""Show every time in the signed-in person's district time zone."""

from django.utils import timezone


class DistrictTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        district = getattr(user, "district", None) if user and user.is_authenticated else None
        if district is not None:
            timezone.activate(district.zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
