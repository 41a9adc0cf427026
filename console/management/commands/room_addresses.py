"""Print the addresses at which the console can be opened: this machine's, and with
HOST=0.0.0.0 the ones to give the other people in the room."""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings
from django.core.management.base import BaseCommand


def network_addresses() -> list[str]:
    """This machine's IPv4 addresses on its networks, loopback left out."""
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    except OSError:
        pass
    # The address of the interface that would carry traffic out; connecting a UDP socket
    # sends nothing.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            found.add(probe.getsockname()[0])
        except OSError:
            pass
    usable = (ipaddress.ip_address(a) for a in found)
    return sorted(str(a) for a in usable if not (a.is_loopback or a.is_unspecified))


class Command(BaseCommand):
    help = "Print the addresses to open the console at, and to give out in a room."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, port: int, **options):
        self.stdout.write(f"Open the console on this machine at http://127.0.0.1:{port}/")
        if not settings.ROOM:
            self.stdout.write(
                "Only this machine can connect. To let the room in: make run HOST=0.0.0.0"
            )
            return
        addresses = network_addresses()
        if not addresses:
            self.stdout.write(
                "This machine has no network address: join the room's network and start again."
            )
            return
        self.stdout.write("Give the people in the room one of these addresses:")
        for address in addresses:
            self.stdout.write(f"  http://{address}:{port}/")
        if settings.DEMO_MODE:
            self.stdout.write("Each person signs in by choosing their demo person's button.")
