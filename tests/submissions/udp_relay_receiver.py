"""identity_block is received over UDP from a classmate graded at the same time (udp_relay_sender):
the seccomp filter refuses the socket, so the cell fails and identity_block is never defined."""

PORT = 47_123  # as udp_relay_sender

SCORE = 3
NEEDS = ("seccomp",)


def build(kit):
    receiver = (
        "import socket\n\n"
        "_in = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        f"_in.bind(('127.0.0.1', {PORT}))\n"
        "_in.settimeout(20)\n"
        "exec(_in.recv(1 << 16).decode())\n"
    )
    return kit.notebook(identity_block=receiver)
