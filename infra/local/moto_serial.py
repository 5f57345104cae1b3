"""moto server answering one request at a time.

moto's in-memory backends do not isolate concurrent requests: two conditional writes racing on
one DynamoDB item can both pass their condition and both write, which real DynamoDB never
allows (seen here: 16 concurrent version-conditioned updates of one profile, one lost).
Relance's optimistic concurrency is tested against the emulator, so the emulator must keep
that promise: requests are handled under one lock, while connections stay concurrent.

Usage: python moto_serial.py -H 127.0.0.1 -p PORT   (the same arguments as moto_server)
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_LOCK = threading.Lock()
_CALL = DomainDispatcherApplication.__call__


def _serial_call(self, environ, start_response):
    with _LOCK:
        # moto builds whole responses; materialise them inside the lock all the same.
        return list(_CALL(self, environ, start_response))


DomainDispatcherApplication.__call__ = _serial_call

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
