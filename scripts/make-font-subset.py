#!/usr/bin/env python3
"""Make assets/fonts/hotline-cjk.ttf: WenQuanYi Micro Hei cut down to the characters the
desktop needs — every UI string (crates/desk/src/i18n.rs), the IVR and ticket files, the
seeder's names and places, and the whole GB2312 set (6,763 hanzi: common names and words).
Rare name characters outside it (e.g. 喆 堃 玥) are added when they appear in the seeder;
anything else falls back to the system's fonts.

Needs: Debian `fonts-wqy-microhei` and `python3-fonttools` (pyftsubset). Run from the
repository root: /usr/bin/python3 scripts/make-font-subset.py (the Python that has fontTools)
"""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = pathlib.Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
OUT = ROOT / "assets/fonts/hotline-cjk.ttf"
TEXT_FILES = [
    "crates/desk/src/i18n.rs",
    "assets/ivr/1000.toml",
    "assets/tickets/categories.toml",
    "crates/store/src/seed.rs",
]

chars = set(chr(c) for c in range(0x20, 0x7F))  # ASCII
chars |= set("，。、；：？！“”‘’（）《》【】…—·￥％＋－×÷℃")
for b1 in range(0xB0, 0xF8):  # GB2312 hanzi, levels 1 and 2
    for b2 in range(0xA1, 0xFF):
        try:
            chars.add(bytes([b1, b2]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
for f in TEXT_FILES:
    chars |= set((ROOT / f).read_text(encoding="utf-8"))
chars = sorted(c for c in chars if c.isprintable())

if not SOURCE.exists():
    sys.exit(f"{SOURCE} is missing: apt-get install -y fonts-wqy-microhei")
listing = ROOT / "target" / "font-subset-chars.txt"
listing.parent.mkdir(exist_ok=True)
listing.write_text("".join(chars), encoding="utf-8")
subprocess.run(
    [
        sys.executable, "-m", "fontTools.subset", str(SOURCE), "--font-number=0",
        f"--text-file={listing}", f"--output-file={OUT}",
        "--layout-features=*", "--no-hinting", "--desubroutinize",
        "--name-IDs=*", "--name-legacy", "--name-languages=*",
    ],
    check=True,
)
print(f"{OUT.relative_to(ROOT)}: {len(chars)} characters, {OUT.stat().st_size / 1e6:.2f} MB")
