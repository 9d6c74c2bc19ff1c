"""Inputs for the peak-memory checks: a gzip bomb as Fashion-MNIST's train-images file, and
an image folder whose first training image is 4000x4000 among 32x32 ones."""
import os, struct, sys, zlib

out = sys.argv[1]

def gzip_stream(path, header, zeros):
    # gzip (wbits 31: zlib writes the gzip header and CRC) of header + `zeros` zero bytes,
    # compressed a block at a time.
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 24)
    with open(path, "wb") as f:
        f.write(comp.compress(header))
        left = zeros
        while left:
            n = min(left, len(block))
            f.write(comp.compress(block[:n]))
            left -= n
        f.write(comp.flush())

def png(w, h, pixels_row):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\0" + pixels_row for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

# (a) Fashion-MNIST train-images files (the other three files come from fake_data).
zeros = 8_400_000_000
# a1: zeros from the first byte (what the issue measured: no valid header at all).
gzip_stream(os.path.join(out, "bomb-zeros.gz"), b"", zeros)
# a2: a valid header announcing the real 60000x28x28, then 8.4 GB instead of 47 MB.
gzip_stream(os.path.join(out, "bomb-header.gz"), bytes([0, 0, 8, 3]) + struct.pack(">III", 60000, 28, 28), zeros)

# (b) image folder: 10 classes x 1000 train and 100 test images of 32x32, the first
# training image 4000x4000.
root = os.path.join(out, "images-odd-first")
small = png(32, 32, bytes(range(96)))
for split, n in (("train", 1000), ("test", 100)):
    for c in range(10):
        d = os.path.join(root, split, f"class{c}")
        os.makedirs(d, exist_ok=True)
        for i in range(n):
            with open(os.path.join(d, f"{i:04}.png"), "wb") as f:
                f.write(small)
with open(os.path.join(root, "train", "class0", "0000.png"), "wb") as f:
    f.write(png(4000, 4000, bytes((i * 7) % 256 for i in range(12000))))
