"""A minimal Rampart wire client (docs/PROTOCOL.md) for the auth shell tier: sends many unary
Generate calls on one connection with arbitrary metadata (text, binary, huge), which the `rampart`
CLI cannot. Prints one line per call: `<code> <message>`.

  auth_client.py SOCKET [--count N] [--meta key=value] [--meta-bin key=HEX] [--meta-size key=BYTES]
                 [--random-key] [--method /rampart.v1.Inference/Generate]
"""
import argparse, os, secrets, socket, struct, sys, base64

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)

def field(num, wire, payload):
    if wire == 2:
        return varint(num << 3 | 2) + varint(len(payload)) + payload
    return varint(num << 3 | wire) + varint(payload)

def entry(key, text=None, binary=None):
    body = field(1, 2, key.encode())
    body += field(2, 2, text.encode()) if text is not None else field(3, 2, binary)
    return body

def decode(buf):
    i, out = 0, {}
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = read_varint(buf, i)
        elif wire == 2:
            n, i = read_varint(buf, i)
            val, i = buf[i:i + n], i + n
        else:
            raise ValueError("unexpected wire type %d" % wire)
        out.setdefault(num, val)
    return out

def read_varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]; i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7

def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data

def frame(kind, flags, stream, payload):
    return struct.pack(">IBBHI", len(payload), kind, flags, 0, stream) + payload

def main():
    p = argparse.ArgumentParser()
    p.add_argument("socket")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--meta", action="append", default=[])
    p.add_argument("--meta-bin", action="append", default=[])
    p.add_argument("--meta-size", action="append", default=[])
    p.add_argument("--random-key", action="store_true", help="a fresh well-formed wrong API key per call")
    p.add_argument("--method", default="/rampart.v1.Inference/Generate")
    a = p.parse_args()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(a.socket)
    s.sendall(b"RAMPART\n" + struct.pack(">HHI", 1, 1, 0))
    pre = recv_exact(s, 24)
    if struct.unpack(">H", pre[8:10])[0] != 1:
        sys.exit("preface refused")
    for n in range(a.count):
        stream = n + 1
        md = b""
        for kv in a.meta:
            k, v = kv.split("=", 1)
            md += field(3, 2, entry(k, text=v))
        for kv in a.meta_bin:
            k, v = kv.split("=", 1)
            md += field(3, 2, entry(k, binary=bytes.fromhex(v)))
        for kv in a.meta_size:
            k, v = kv.split("=", 1)
            md += field(3, 2, entry(k, text="Bearer " + "A" * int(v)))
        if a.random_key:
            key = "rk_live_" + secrets.token_hex(6) + "_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            md += field(3, 2, entry("authorization", text="Bearer " + key))
        headers = field(1, 2, a.method.encode()) + md
        body = field(2, 2, b"hello")  # GenerateRequest.prompt
        s.sendall(frame(1, 0, stream, headers) + frame(2, 1, stream, body))
        while True:
            hdr = recv_exact(s, 12)
            length, kind, flags, _, sid = struct.unpack(">IBBHI", hdr)
            payload = recv_exact(s, length)
            if kind == 6:
                g = decode(payload)
                print("GOAWAY %d %s" % (g.get(2, 0), g.get(3, b"").decode()))
                return
            if kind == 3 and sid == stream:
                t = decode(payload)
                print("%d %s" % (t.get(1, 0), t.get(2, b"").decode()))
                break
    s.close()

if __name__ == "__main__":
    main()
