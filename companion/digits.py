"""A person's picture of a digit, made into an MNIST digit the way MNIST's own were made.

LeCun, Cortes and Burges describe it: the digit's ink, size-normalised to fit a 20x20 box with
its aspect ratio kept (anti-aliased, so grey levels appear), then centred in a 28x28 image by
its centre of mass. A photo or a drawing needs three steps before that, which MNIST's scans
had already: find the paper (transparent, or the tone along the border), make the ink bright on
black (MNIST's convention) whatever its colour, and drop the paper's texture and noise.
"""
import numpy as np
from PIL import Image, UnidentifiedImageError

from companion.errors import UserError

BOX = 20  # the longer side of the digit, in pixels
SIZE = 28
# MNIST's mean centre of mass (row, column), in pixel indexes, measured over its 60,000
# training digits; tests/test_digits.py checks it against the data
CENTRE = (14.0, 14.0)
NOISE = 0.05  # below this share of the strongest stroke, after the paper's own noise is taken off


def read_image(path):
    """The image at `path` as a PIL image; one-line UserError when it cannot be read."""
    try:
        with Image.open(path) as image:
            image.load()
            return image
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not an image") from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise UserError(f"{path}: not an image this script can read ({error})") from None


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
        gray = np.asarray(image.convert("L"), dtype=np.float64)
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
