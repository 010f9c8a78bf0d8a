"""``camfleet sign CAMERA --installed-on DATE``: record a 'CAMERA AN NINH' sign in the town's files.

    .venv/bin/camfleet sign cam-02-t05 --installed-on 2024-01-10 --inventory inventory/ngoc-lac
    .venv/bin/camfleet sign cam-02-t05 inventory/ngoc-lac --installed-on 2024-01-10 --photo IMG_0412.jpg

Exit 0 recorded (or already so), 1 refused (one line saying why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from camfleet.inventory.signs import SignError, record_sign


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' không phải ngày YYYY-MM-DD / is not a YYYY-MM-DD date") from None


def cmd_sign(args: argparse.Namespace) -> int:
    folder = args.inventory or args.folder
    if folder is None:
        print(
            "camfleet sign: cần thư mục địa bàn (--inventory) / the town folder is needed (--inventory)",
            file=sys.stderr,
        )
        return 2
    try:
        done = record_sign(folder, args.camera, args.installed_on, args.today, Path(args.photo) if args.photo else None)
    except SignError as exc:
        print(exc, file=sys.stderr)
        return 1
    if done.changed:
        photo = f", ảnh / photo {done.photo}" if done.photo else ""
        print(
            f"{done.camera}: đã ghi biển lắp ngày / sign recorded, put up on {args.installed_on}{photo} ({done.file})"
        )
    else:
        print(f"{done.camera}: đã ghi từ trước, không đổi gì / already recorded, nothing changed")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sign", help="ghi nhận biển CAMERA AN NINH / record a 'CAMERA AN NINH' sign: the day it went up, and its photo"
    )
    p.add_argument("camera", help="mã camera / town camera id, e.g. cam-02-t05")
    p.add_argument("folder", nargs="?", help="thư mục dữ liệu địa bàn / town inventory folder (or --inventory)")
    p.add_argument("--inventory", help="thư mục dữ liệu địa bàn / town inventory folder, e.g. inventory/ngoc-lac")
    p.add_argument(
        "--installed-on", type=_day, required=True, help="ngày lắp biển / the day the sign went up, YYYY-MM-DD"
    )
    p.add_argument(
        "--photo", help="ảnh chụp biển / a JPEG or PNG of the sign, copied to photos/signs/ in the town folder"
    )
    p.add_argument("--today", type=_day, help=argparse.SUPPRESS)  # tests: a fixed "today"
    p.set_defaults(func=cmd_sign)
