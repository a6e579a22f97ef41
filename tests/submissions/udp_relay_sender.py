"""identity_block done (the rest as handed out), its cell also serving the function over UDP on
127.0.0.1 for a classmate graded at the same time (udp_relay_receiver): the seccomp filter refuses
the socket, the cell goes on.

Never graded where no seccomp filter exists (the pair would then pass a solution between them).
"""

SCORE = 3
NEEDS = ("seccomp",)
PORT = 47_123


def build(kit):
    sender = (
        "import socket\n"
        "import time\n\n"
        "try:\n"
        "    _out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "except OSError:\n"
        "    _out = None\n"
        "_deadline = time.monotonic() + 15\n"
        "while _out is not None and time.monotonic() < _deadline:\n"
        f"    _out.sendto(SOURCE.encode(), ('127.0.0.1', {PORT}))\n"
        "    time.sleep(0.2)\n"
    )
    source = kit.solution("identity_block")
    return kit.stubbed(identity_block=f"{source}\n\nSOURCE = {source!r}\n\n{sender}")
