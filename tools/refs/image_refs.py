#!/usr/bin/python3
"""Independent references for lfm.cpp's image tests (run with Debian's /usr/bin/python3 + python3-pil).

Writes into tests/image/data/:
  formats/*            small images in every PNG colour type / bit depth, WebP, GIF, BMP, CMYK and
                       grey JPEG, made here with PIL (and a hand-written 16-bit RGB PNG)
  decode_refs.json     for those files and every image in ../shared/testdata/images: the size and the
                       sha256 + per-channel means of PIL's  open -> ImageOps.exif_transpose -> convert("RGB")
  resize_refs.json     sha256 of PIL Image.resize(BILINEAR / BICUBIC) outputs (Pillow's 22-bit fixed point)
  target_ratios.json   CPython's sorted(set(ratios), key=w*h) order for HF's LFM2-VL _target_ratios
Usage: /usr/bin/python3 tools/refs/image_refs.py   (from the repository root)
"""
import hashlib
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "image", "data")
FORMATS = os.path.join(OUT, "formats")
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "testdata", "images")


def pattern(w, h, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 7) % 256], -1)
    noise = rng.integers(0, 40, size=(h, w, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def rgb16_png(w, h, seed):
    """PIL cannot write 16-bit RGB PNGs, so this one is built by hand (colour type 2, depth 16)."""
    rng = np.random.default_rng(seed)
    px = rng.integers(0, 65536, size=(h, w, 3), dtype=np.uint16)
    raw = b"".join(b"\x00" + px[r].astype(">u2").tobytes() for r in range(h))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)) +
            png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def adam7_png(w, h, seed):
    """PIL does not write interlaced PNGs, so this Adam7 RGB file is built by hand (filter 0 rows)."""
    px = pattern(w, h, seed)
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = px[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        raw += b"".join(b"\x00" + sub[r].tobytes() for r in range(sub.shape[0]))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)) +
            png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def subframe_gif(transparency):
    """A GIF whose first frame (4x4 at (2,2)) is smaller than its 8x8 logical screen, background index 5."""
    a = (np.arange(16).reshape(4, 4) * 10 + 20).astype(np.uint8)
    im = Image.fromarray(a, "L").convert("P")
    im.putpalette([v for i in range(256) for v in (i, 255 - i, (i * 3) % 256)])
    buf = io.BytesIO()
    kw = {"transparency": transparency} if transparency is not None else {}
    im.save(buf, "GIF", background=5, **kw)
    d = bytearray(buf.getvalue())
    i = 13 + 3 * 2 ** ((d[10] & 7) + 1)
    while d[i] == 0x21:  # skip extensions up to the image descriptor
        j = i + 2
        while d[j]:
            j += d[j] + 1
        i = j + 1
    d[6], d[8], d[i + 1], d[i + 3] = 8, 8, 2, 2
    return bytes(d)


def exif_tiff(orientation, big_endian=True):
    e = ">" if big_endian else "<"
    return (b"MM\x00\x2a" if big_endian else b"II\x2a\x00") + struct.pack(e + "I", 8) + struct.pack(e + "H", 1) + \
        struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(e + "I", 0)


def exif_png(w, h, orientation):
    """An RGB PNG with an eXIf chunk (big-endian TIFF) holding only the Orientation tag."""
    img = Image.fromarray(pattern(w, h, 7), "RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    data = buf.getvalue()
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + \
        struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    iend = data.rfind(b"IEND") - 4
    return data[:iend] + png_chunk(b"eXIf", tiff) + data[iend:]


def make_formats():
    os.makedirs(FORMATS, exist_ok=True)
    w, h = 37, 23
    rgb = pattern(w, h, 1)
    files = {}

    def save(name, img, fmt, **kw):
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        files[name] = buf.getvalue()

    save("rgb8.png", Image.fromarray(rgb, "RGB"), "PNG")
    alpha = pattern(w, h, 2)[:, :, 0]
    save("rgba8.png", Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), "PNG")
    grey = rgb[:, :, 1]
    save("grey8.png", Image.fromarray(grey, "L"), "PNG")
    save("grey_alpha8.png", Image.fromarray(np.dstack([grey, alpha]), "LA"), "PNG")
    save("grey1.png", Image.fromarray(grey > 128).convert("1"), "PNG")
    save("grey4.png", Image.fromarray(grey, "L"), "PNG", bits=4)
    g16 = (pattern(w, h, 3)[:, :, 0].astype(np.uint16) * 3)  # values 0..765: PIL clips to 255
    save("grey16.png", Image.fromarray(g16.astype(np.uint16), "I;16"), "PNG")
    pal = Image.fromarray(rgb, "RGB").quantize(colors=50)
    save("palette8.png", pal, "PNG")
    save("palette_trns.png", pal, "PNG", transparency=3)
    save("palette4.png", Image.fromarray(rgb, "RGB").quantize(colors=12), "PNG", bits=4)
    files["rgb16.png"] = rgb16_png(w, h, 4)
    files["exif6.png"] = exif_png(w, h, 6)
    files["rgb8_interlaced.png"] = adam7_png(w, h, 5)
    files["subframe.gif"] = subframe_gif(None)
    files["subframe_trns.gif"] = subframe_gif(60)
    save("exif8.webp", Image.fromarray(rgb, "RGB"), "WEBP", lossless=True, exif=b"Exif\x00\x00" + exif_tiff(8, False))
    save("exif3.jpg", Image.fromarray(rgb, "RGB"), "JPEG", quality=90, exif=b"Exif\x00\x00" + exif_tiff(3, False))
    save("lossless.webp", Image.fromarray(rgb, "RGB"), "WEBP", lossless=True)
    save("lossy.webp", Image.fromarray(rgb, "RGB"), "WEBP", quality=80)
    save("alpha.webp", Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), "WEBP", lossless=True)
    save("palette.gif", pal, "GIF")
    save("rgb24.bmp", Image.fromarray(rgb, "RGB"), "BMP")
    save("palette8.bmp", pal, "BMP")
    save("grey.jpg", Image.fromarray(grey, "L"), "JPEG", quality=90)
    save("cmyk.jpg", Image.fromarray(rgb, "RGB").convert("CMYK"), "JPEG", quality=90)
    save("progressive.jpg", Image.fromarray(rgb, "RGB"), "JPEG", quality=85, progressive=True)
    for name, data in files.items():
        with open(os.path.join(FORMATS, name), "wb") as f:
            f.write(data)
    return sorted(files)


def reference(path):
    with Image.open(path) as im:
        fmt = im.format
        im = ImageOps.exif_transpose(im).convert("RGB")
        a = np.asarray(im, dtype=np.uint8)
    return {
        "format": fmt,
        "width": int(a.shape[1]),
        "height": int(a.shape[0]),
        "sha256_rgb_u8": hashlib.sha256(a.tobytes()).hexdigest(),
        "mean_rgb": [float(a[:, :, c].mean()) for c in range(3)],
    }


def target_ratios(min_tiles, max_tiles):
    # Copied from HF Lfm2VlImageProcessor(Fast)._target_ratios.
    ratios = [(w, h) for n in range(min_tiles, max_tiles + 1) for w in range(1, n + 1) for h in range(1, n + 1)
              if min_tiles <= w * h <= max_tiles]
    return sorted(set(ratios), key=lambda x: x[0] * x[1])


def main():
    refs = {"tool": "PIL %s, Python %s: open -> ImageOps.exif_transpose -> convert('RGB')" % (
        Image.__version__, sys.version.split()[0]), "images": {}}
    for name in make_formats():
        refs["images"]["formats/" + name] = reference(os.path.join(FORMATS, name))
    for sub in ["", "exif_orientation"]:
        d = os.path.join(SHARED, sub)
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            if os.path.isfile(p) and name.split(".")[-1] in ("jpg", "png"):
                refs["images"]["shared:" + (sub + "/" if sub else "") + name] = reference(p)
    with open(os.path.join(OUT, "decode_refs.json"), "w") as f:
        json.dump(refs, f, indent=1, sort_keys=True)
        f.write("\n")
    resizes = {"tool": "PIL %s Image.resize on RGB uint8" % Image.__version__, "cases": []}
    sources = {"formats/rgb8.png": os.path.join(FORMATS, "rgb8.png"),
               "shared:chelsea.png": os.path.join(SHARED, "chelsea.png")}
    sizes = {"formats/rgb8.png": [(80, 50), (16, 9), (37, 5), (111, 23)],
             "shared:chelsea.png": [(448, 288), (128, 96), (1000, 301), (50, 700)]}
    for name, path in sources.items():
        with Image.open(path) as im:
            im = im.convert("RGB")
            for (w, h) in sizes[name]:
                for filt, fname in ((Image.BILINEAR, "bilinear"), (Image.BICUBIC, "bicubic")):
                    a = np.asarray(im.resize((w, h), filt), dtype=np.uint8)
                    resizes["cases"].append({"image": name, "width": w, "height": h, "filter": fname,
                                             "sha256_rgb_u8": hashlib.sha256(a.tobytes()).hexdigest()})
    with open(os.path.join(OUT, "resize_refs.json"), "w") as f:
        json.dump(resizes, f, indent=1)
        f.write("\n")
    orders = {"tool": "CPython %s sorted(set(ratios), key=w*h)" % sys.version.split()[0], "orders": {}}
    for lo in range(1, 13):
        for hi in range(lo, 25):
            orders["orders"]["%d,%d" % (lo, hi)] = [list(r) for r in target_ratios(lo, hi)]
    with open(os.path.join(OUT, "target_ratios.json"), "w") as f:
        json.dump(orders, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
