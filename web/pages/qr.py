"""QR codes for a batch's Digital Link URL, fit for a printed label.

Error correction Q (25% of the symbol may be damaged: a crease, a smudge, a worn tag) and
the 4-module quiet zone that ISO/IEC 18004 requires around the symbol.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathFillImage

ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
BORDER = 4  # modules of quiet zone
PNG_BOX = 10  # pixels per module


def _code(url: str, box_size: int) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=BORDER, box_size=box_size)
    code.add_data(url.encode("utf-8"), optimize=0)
    code.make(fit=True)
    return code


def png(url: str) -> bytes:
    """A black-on-white PNG encoding exactly ``url`` (byte mode, UTF-8)."""
    image = _code(url, PNG_BOX).make_image(fill_color="black", back_color="white")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def svg(url: str) -> bytes:
    """A scalable SVG encoding exactly ``url``, with a white background for print."""
    image = _code(url, 10).make_image(image_factory=SvgPathFillImage)
    buf = io.BytesIO()
    image.save(buf)
    return buf.getvalue()
