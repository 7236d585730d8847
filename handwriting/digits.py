"""A person's picture of a digit, made into an MNIST digit the way MNIST's own were made.

LeCun, Cortes and Burges describe it: the digit's ink, size-normalised to fit a 20x20 box with
its aspect ratio kept (anti-aliased, so grey levels appear), then centred in a 28x28 image by
its centre of mass. A photo or a drawing needs three steps before that, which MNIST's scans
had already: find the paper (transparent, or the tone along the border), make the ink bright on
black (MNIST's convention) whatever its colour, and drop the paper's texture and noise.
"""
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from companion.errors import UserError

BOX = 20  # the longer side of the digit, in pixels
SIZE = 28
# MNIST's mean centre of mass (row, column), in pixel indexes, measured over its 60,000
# training digits; tests/test_digits.py checks it against the data
CENTRE = (14.0, 14.0)
NOISE = 0.05  # below this share of the strongest stroke, after the paper's own noise is taken off
# a picture larger than this is refused before it is decoded: a small file can declare a huge
# image (a 140 KB PNG of 100 megapixels took 6 GB); phones' photos are 12-50 megapixels
MAX_PIXELS = 64_000_000
WORKING_SIDE = 2048  # larger pictures are scaled down to this longer side once decoded
Image.MAX_IMAGE_PIXELS = None  # read_image's own check, on the header, replaces Pillow's


def read_image(path):
    """The image at `path` as a PIL image, upright as a viewer shows it (the EXIF Orientation a
    phone sets applied) and at most WORKING_SIDE pixels a side; a one-line UserError when it
    cannot be read or is too large to decode safely."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UserError(too_large(path, width, height))
            image.draft(image.mode, (WORKING_SIDE, WORKING_SIDE))  # JPEG: decode smaller
            image.load()
            image = ImageOps.exif_transpose(image)
            image.thumbnail((WORKING_SIDE, WORKING_SIDE))
            return image
    except FileNotFoundError:
        raise UserError(f"{printable(path)}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{printable(path)}: is a directory, not an image") from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise UserError(f"{printable(path)}: not an image this script can read ({error})") from None


def printable(name):
    """A file name as one line of text: as it is, or quoted with its escapes when it holds a
    newline or another character that is not printable."""
    return name if name.isprintable() else repr(name)


def too_large(path, width, height):
    return (f"{printable(path)}: {width} x {height} pixels ({width * height / 1e6:.0f} "
            f"megapixels) is larger than the {MAX_PIXELS / 1e6:.0f} megapixels this script "
            f"decodes; scale it down first")


def grey_levels(image):
    """The picture as a float array of grey levels 0-255, whatever its mode: 8-bit modes through
    Pillow's own conversion; 16- and 32-bit integers and floats scaled from their own range
    (Pillow's conversion would clip them at 255)."""
    if image.mode.startswith("I;16"):
        return np.asarray(image, dtype=np.float64) / 257
    if image.mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
        low, high = values.min(), values.max()
        if image.mode == "F" and low >= 0 and high <= 1:  # floats as 0-1
            return values * 255
        if low >= 0 and high <= 255:
            return values
        if low >= 0 and high <= 65535:
            return values / 257
        return (values - low) * (255 / (high - low)) if high > low else values * 0
    return np.asarray(image.convert("L"), dtype=np.float64)


def ink(image):
    """Float array of the ink's strength, 0 on paper, bright where the digit is."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64)
        alpha = rgba[..., 3]
        if (alpha < 128).mean() > 0.5:  # drawn on a transparent sheet: ink is what is opaque
            return alpha
        # mostly opaque: lay it on white paper and read it as a grey picture
        gray = np.asarray(image.convert("RGBA").convert("LA").convert("L"), dtype=np.float64)
        gray = gray * alpha / 255 + 255 * (1 - alpha / 255)
    else:
        gray = grey_levels(image)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    paper = np.median(border)
    # dark ink on light paper is inverted; light ink on dark paper is kept as it is
    return np.clip(paper - gray, 0, None) if paper >= 128 else np.clip(gray - paper, 0, None)


def to_mnist(image, path="image"):
    """A 28x28 uint8 array: the digit in `image` as an MNIST digit."""
    strength = ink(image)
    # the paper's texture and JPEG noise, measured along the border robustly (median and
    # median absolute deviation), so that a stroke touching the edge does not count as paper
    border = np.concatenate([strength[0], strength[-1], strength[:, 0], strength[:, -1]])
    spread = 1.4826 * np.median(np.abs(border - np.median(border)))
    strength = np.clip(strength - (np.median(border) + 4 * spread), 0, None)
    if strength.max() < 32:  # less than an eighth of full contrast anywhere: no digit drawn
        raise UserError(f"{path}: no digit found (the image is blank paper)")
    strength = strength * (255 / strength.max())
    strength[strength < NOISE * 255] = 0
    rows = np.flatnonzero(strength.any(axis=1))
    cols = np.flatnonzero(strength.any(axis=0))
    digit = strength[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height, width = digit.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(digit.astype(np.float32), mode="F")
                       .resize(size, Image.Resampling.LANCZOS), dtype=np.float64)
    small = np.clip(small, 0, 255)
    return centred(small)


def centre_of_mass(array):
    total = array.sum()
    rows, cols = np.indices(array.shape)
    return (rows * array).sum() / total, (cols * array).sum() / total


def centred(small):
    """`small` placed in a 28x28 field so that its centre of mass lands on MNIST's."""
    row, col = centre_of_mass(small)
    top = int(np.clip(round(CENTRE[0] - row), 0, SIZE - small.shape[0]))
    left = int(np.clip(round(CENTRE[1] - col), 0, SIZE - small.shape[1]))
    field = np.zeros((SIZE, SIZE))
    field[top:top + small.shape[0], left:left + small.shape[1]] = small
    return np.round(field).astype(np.uint8)
