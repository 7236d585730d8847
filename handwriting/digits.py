"""A person's picture of a digit, made into an MNIST digit the way MNIST's own were made.

LeCun, Cortes and Burges describe it: the digit's ink, size-normalised to fit a 20x20 box with
its aspect ratio kept (anti-aliased, so grey levels appear), then centred in a 28x28 image by
its centre of mass. A photo or a drawing needs these steps before that, which MNIST's scans
had already, in to_mnist's order:

1. ink: find the paper (transparent, or the tone of most of the picture), even out the light
   falling on it (a quadratic surface, lowered where a shadow is: scipy.ndimage.grey_closing;
   the ink's darkness taken as a share of that light), make the ink bright on black whatever
   its colour, drop the paper's grain;
2. without_ruled_lines: a ruled or squared page's lines, except where a stroke crosses them
   (and a line the digit hides most of, where the spacing of the others puts it);
3. digit_region: the digit's own marks (skimage.measure.label, scipy.ndimage.find_objects),
   not specks, a phone's bars, a desk, or a level line running well past the digit;
4. thickened, then scaled and centred as MNIST's were.

to_mnist(steps=...) gives a small picture of the ink found and of what was kept, which
predict_digit.py shows. handwriting/pen_digits.py draws digits as people write them and
photographs them as phones do; results/investigations/handwriting/ measures these steps on
them and on other people's handwriting (optdigits).
"""
import contextlib
import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage
from skimage import measure

from companion.errors import UserError

BOX = 20  # the longer side of the digit, in pixels
SIZE = 28
# MNIST's mean centre of mass (row, column), in pixel indexes, measured over its 60,000
# training digits; tests/test_digits.py checks it against the data
CENTRE = (14.0, 14.0)
NOISE = 0.05  # below this share of the strongest stroke, after the paper's own grain is taken off
# a picture larger than this is refused before it is decoded: a small file can declare a huge
# image (a 140 KB PNG of 100 megapixels took 6 GB); phones' photos are 12-50 megapixels
MAX_PIXELS = 64_000_000
SMALLEST = 0.015  # a digit spans at least this share of the picture's longer side; less is specks
WORKING_SIDE = 2048  # larger pictures are scaled down to this longer side once decoded
Image.MAX_IMAGE_PIXELS = None  # read_image's own check, on the header, replaces Pillow's
# HEIC/HEIF, an iPhone's own photo format: Pillow reads it through pillow-heif, which turns
# the photo upright as it decodes it
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
try:
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # said in one line when a HEIC photo is given (read_image)
    pillow_heif = None


def read_image(path):
    """The image at `path` as a PIL image, upright as a viewer shows it (the EXIF Orientation a
    phone sets applied) and at most WORKING_SIDE pixels a side; a one-line UserError when it
    cannot be read or is too large to decode safely."""
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        raise UserError(f"{printable(path)}: not a regular file (a pipe or a device), not an "
                        f"image")  # Pillow would wait on a pipe for ever
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
        if pillow_heif is None and is_heif(path):
            raise UserError(f"{printable(path)}: a HEIC/HEIF photo, which needs the package "
                            f"pillow-heif (pip install pillow-heif), or save it as JPEG") from None
        raise UserError(f"{printable(path)}: not an image this script can read ({error})") from None


def is_heif(path):
    """Whether the file starts as a HEIC/HEIF photo does (an ISO 'ftyp' box of a HEIF brand)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS


def printable(name):
    """A file name as one line of text: as it is (its bytes read as UTF-8, whatever the
    terminal's locale made of them), or quoted with its escapes when it holds a newline or
    another character that is not printable."""
    with contextlib.suppress(UnicodeError):
        name = os.fsencode(name).decode("utf-8", "replace")
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
    """Float array of the ink's strength, 0 on paper, bright where the digit is: the paper's
    light evened out (a shadow, a lamp to one side) and its grain taken off."""
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
    # dark ink on light paper, or light ink on dark paper (a screen in dark mode), told by the
    # tone of most of the picture (the paper: a desk may show around it): made the first
    # kind, then the ink is how much darker than the paper's own light it is
    paper = gray if np.median(gray) >= 128 else 255 - gray
    # a photo's brightness is the light times what the paper or ink gives back: the ink is
    # its darkness as a share of the light there, so a stroke in a shadow weighs as in full light
    light = paper_light(paper)
    signed = (light - paper) * (255 / np.maximum(light, 1))
    # the paper's grain (camera noise, texture, JPEG), measured before anything is clipped so
    # that noise never counts as ink: from what lies below the light's surface, which is paper
    # alone (ink and a desk around the sheet lie above it), however little of the picture the
    # paper is
    below = -signed[signed < 0]
    grain = 1.4826 * np.median(below) if below.size else 0.0
    return np.clip(signed - 4 * grain, 0, None)


def paper_light(paper):
    """The light falling on the paper: a smooth surface (quadratic in x and y) fitted to the
    paper alone. It starts level with the brightest tenth of the picture, and each round fits
    the pixels not far below the last surface, so the ink, darker, never pulls it down."""
    height, width = paper.shape
    scale = max(height, width) / 96
    small = np.asarray(Image.fromarray(paper.astype(np.float32), mode="F").resize(
        (max(1, round(width / scale)), max(1, round(height / scale))), Image.Resampling.BOX),
        dtype=np.float64) if scale > 1 else paper

    def terms(shape):
        rows, cols = np.indices(shape, dtype=np.float64)
        y, x = (rows + 0.5) / shape[0] * 2 - 1, (cols + 0.5) / shape[1] * 2 - 1
        return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)

    basis = terms(small.shape).reshape(-1, 6)
    values = small.ravel()
    surface = np.full(values.shape, np.percentile(values, 90))
    paper_now = None
    for _ in range(20):
        residual = values - surface
        above = residual[residual > 0]
        grain = 1.4826 * np.median(above) if above.size else 0.0
        on_paper = residual > -max(3 * grain, 2.0)
        if paper_now is not None and np.array_equal(on_paper, paper_now):
            break
        paper_now = on_paper
        coefficients = np.linalg.lstsq(basis[on_paper], values[on_paper], rcond=None)[0]
        surface = basis @ coefficients
    surface = terms(paper.shape) @ coefficients
    # a shadow with an edge (a thumb's, a hand's) is no quadratic: where the paper is darker than
    # the surface over a region wider than any stroke, the paper there is that dark. A grey
    # closing (scipy.ndimage.grey_closing) fills in the strokes and keeps such regions.
    if scale <= 1:
        return surface
    closed = ndimage.grey_closing(small, size=max(3, round(max(small.shape) / 5)), mode="nearest")
    darker = np.minimum(closed - (terms(small.shape) @ coefficients), 0).astype(np.float32)
    return surface + np.asarray(Image.fromarray(darker, mode="F").resize(
        (width, height), Image.Resampling.BILINEAR), dtype=np.float64)


def digit_region(strength, path):
    """A boolean array: where the digit is. Ink is grouped into marks (strokes closer than a
    few pixels at 256 pixels a side are one mark); the digit is the heaviest mark with the marks
    near it that weigh something, leaving the specks, the phone's status bar and home bar and
    ruled lines (long, level marks) out. One line when two marks of a digit's size stand apart."""
    height, width = strength.shape
    block = max(1, -(-max(height, width) // 256))
    rows, cols = -(-height // block), -(-width // block)
    padded = np.zeros((rows * block, cols * block))
    padded[:height, :width] = strength
    blocks = padded.reshape(rows, block, cols, block)
    weight = blocks.sum(axis=(1, 3))
    mask = blocks.max(axis=(1, 3)) > 0
    # skimage.measure.label: the 8-connected marks, once strokes a few blocks apart are joined
    labels = measure.label(ndimage.binary_dilation(mask, np.ones((5, 5), bool)), connectivity=2)
    count = labels.max()
    weights = np.bincount(labels.ravel(), weights=weight.ravel(), minlength=count + 1)
    # each mark's box, top, bottom, left, right (scipy.ndimage.find_objects)
    boxes = np.zeros((count + 1, 4), dtype=int)
    for number, (along, across_) in enumerate(ndimage.find_objects(labels), 1):
        boxes[number] = along.start, along.stop, across_.start, across_.stop
    tall, wide = boxes[:, 1] - boxes[:, 0], boxes[:, 3] - boxes[:, 2]
    level_line = (wide > 6 * tall) & (wide > cols / 2)  # a ruled line, not a stroke of a digit
    # what reaches across the picture is around the paper (a desk), not on it
    across = ((boxes[:, 0] == 0) & (boxes[:, 1] == rows)) | \
        ((boxes[:, 2] == 0) & (boxes[:, 3] == cols))
    weights[0] = 0
    own_weights = weights.copy()
    if np.any(weights[~(level_line | across)] > 0):  # unless nothing else is there
        weights[level_line | across] = 0
    digit = int(np.argmax(weights))
    top, bottom, left, right = boxes[digit]
    size = max(bottom - top, right - left)
    extent = max(size - 4, 1) * block  # the mark without the 2 blocks it was grown by each way
    if extent < SMALLEST * max(height, width):
        raise UserError(f"{path}: no clear digit, only specks (the largest mark is about "
                        f"{extent} pixels across)")
    margin = size // 4
    chosen = [digit]
    for number in np.flatnonzero(own_weights >= 0.02 * weights[digit]):
        if number == digit or across[number]:
            continue
        t, b, lft, rgt = boxes[number]
        near = t < bottom + margin and b > top - margin and lft < right + margin and \
            rgt > left - margin
        # a level stroke beside the digit is its own (a seven's bar drawn apart); a ruled line
        # runs on well past the digit on both sides
        if level_line[number] and not (lft >= left - size // 2 and rgt <= right + size // 2):
            continue
        if near:
            chosen.append(number)
        elif weights[number] >= 0.35 * weights[digit] and tall[number] >= 0.5 * tall[digit]:
            raise UserError(f"{path}: more than one digit-sized mark in the picture; crop it "
                            f"to the one digit")
    region = np.isin(labels, chosen) & mask
    region = np.repeat(np.repeat(region, block, axis=0), block, axis=1)[:height, :width]
    return region


def without_ruled_lines(strength):
    """The ink without a ruled or squared page's lines, which cross the digit and would be read
    as part of it: the level lines and the upright ones (the same search on the transposed
    page), except where a stroke of the digit crosses them."""
    level = line_bands(strength)
    upright = line_bands(strength.T)
    lines = np.zeros(strength.shape, dtype=bool)
    for found, turned in ((level, False), (upright, True)):
        if found is not None:
            lines |= found.T if turned else found
    if not lines.any():
        return strength
    strokes = (strength > 0) & ~lines  # the ink that no line explains
    kept = np.zeros_like(lines)
    for found, turned in ((level, False), (upright, True)):
        if found is not None:
            crossing = crossed(found, strokes.T if turned else strokes)
            kept |= crossing.T if turned else crossing
    return np.where(lines & ~kept, 0, strength)


def line_bands(strength):
    """Where a ruled page's level lines are, as a boolean array, or None: at the slope that lines
    up the most ink, the thin bands of ink that run across most of the picture, two or more of
    them (one long stroke alone is no page's ruling: it may be a seven's bar), each with its
    soft edge either side."""
    height, width = strength.shape
    if width < 100 or not strength.any():
        return None
    offset = int(np.ceil(0.06 * width)) + 1  # keeps every band's index at 0 or more

    def fullest_bands(rows, cols):
        """(ink per band, slope) at the slope that lines up the most ink."""
        best = None
        for slope in np.linspace(-0.06, 0.06, 25):  # about 3.4 degrees either way
            bands = np.round(rows - slope * cols).astype(int) + offset
            counts = np.bincount(bands, minlength=height + 2 * offset)
            if best is None or counts.max() > best[0].max():
                best = counts, slope
        return best

    # no band full even of all the ink: no ruling (most pictures; the thin runs cost more)
    if fullest_bands(*np.nonzero(strength))[0].max() <= 0.45 * width:
        return None
    thickest = max(3, round(0.01 * height))  # a printed line's width, in pixels
    # only ink in thin runs up and down counts: a stroke lying along a line does not widen it
    counts, slope = fullest_bands(*np.nonzero((strength > 0) &
                                              (run_lengths(strength > 0) <= thickest + 2)))
    full = counts > 0.45 * width  # a digit lying on a line hides some of it
    edges = np.flatnonzero(np.diff(np.concatenate([[0], full.astype(int), [0]])))
    thin = [(start, end) for start, end in zip(edges[::2], edges[1::2])
            if end - start <= thickest]
    if len(thin) < 2:
        return None
    # a page's lines are evenly spaced: a line the digit hides more than half of is still there,
    # where the spacing of the lines found puts it, thin and showing over a fifth of its length
    # (lines found closer than a few widths apart, a double rule, are no spacing to go by)
    centres = [(start + end - 1) / 2 for start, end in thin]
    spacing = min(np.diff(centres))
    partly = np.flatnonzero(np.diff(np.concatenate([[0], (counts > 0.2 * width).astype(int),
                                                    [0]])))
    for start, end in zip(partly[::2], partly[1::2]) if spacing > 4 * thickest else ():
        steps = ((start + end - 1) / 2 - centres[0]) / spacing
        if end - start <= thickest and abs(steps - round(steps)) * spacing <= 2:
            thin.append((start, end))
    on_line = np.zeros(counts.size + 2, dtype=bool)
    for start, end in thin:
        on_line[max(start - 2, 0):end + 2] = True
    every_row, every_col = np.indices(strength.shape)
    bands = np.clip(np.round(every_row - slope * every_col).astype(int) + offset, 0,
                    on_line.size - 1)
    return on_line[bands] & (strength > 0)


def run_lengths(mask):
    """For each pixel, the length of the run of True it is in, up and down its column."""
    up = np.zeros(mask.shape, dtype=np.int32)
    down = np.zeros(mask.shape, dtype=np.int32)
    up[0], down[-1] = mask[0], mask[-1]
    for row in range(1, mask.shape[0]):
        up[row] = np.where(mask[row], up[row - 1] + 1, 0)
    for row in range(mask.shape[0] - 2, -1, -1):
        down[row] = np.where(mask[row], down[row + 1] + 1, 0)
    return np.where(mask, up + down - 1, 0)


def crossed(lines, strokes):
    """The line pixels a stroke crosses: in each column, a line's pixels with stroke ink just
    above and just below them (a few columns either way: a slanted stroke moves across)."""
    above = np.zeros_like(lines)
    below = np.zeros_like(lines)
    # the nearest row above (below) each line pixel that is not on a line, and whether it is ink
    height = lines.shape[0]
    passes = ((range(1, height), above, -1), (range(height - 2, -1, -1), below, 1))
    for rows, target, step in passes:
        for row in rows:
            source = row + step
            target[row] = np.where(lines[source], target[source], strokes[source])
    reach = max(3, round(0.01 * height))
    widen = np.ones((1, 2 * reach + 1), bool)
    return lines & ndimage.binary_dilation(above, widen) & ndimage.binary_dilation(below, widen)


def thickened(digit):
    """A digit drawn with a fine pen, its strokes widened to MNIST's (about a tenth of the
    digit's height); a digit with strokes near that width is left as it is."""
    drawn = digit > 0
    inside = drawn.copy()
    inside[1:] &= drawn[:-1]
    inside[:-1] &= drawn[1:]
    inside[:, 1:] &= drawn[:, :-1]
    inside[:, :-1] &= drawn[:, 1:]
    edge = np.count_nonzero(drawn & ~inside)
    width = 2 * np.count_nonzero(drawn) / max(edge, 1)  # a stroke's area over half its outline
    wanted = 0.1 * max(digit.shape)
    if width >= wanted / 2:
        return digit
    size = min(int(wanted - width) | 1, 31)  # odd: the stroke widened as much either side
    # scipy.ndimage.maximum_filter: Pillow's MaxFilter gives the same, 160 times slower at 31
    return ndimage.maximum_filter(digit, size=size)


def to_mnist(image, path="image", doubts=None, steps=None):
    """A 28x28 uint8 array: the digit in `image` as an MNIST digit. `doubts`, a list, gets a
    few words for each step that took ink off inside the digit's box, for the reader to check
    what the model saw; `steps`, a dict, small pictures of the steps: "ink" (all the ink found,
    light on dark) and "kept" (what was kept as the digit), so a reader sees where one was lost."""
    strength = ink(image)
    if strength.max() < 32:  # less than an eighth of full contrast anywhere: no digit drawn
        raise UserError(f"{path}: no digit found (the image is blank paper)")
    strength = strength * (255 / strength.max())
    strength[strength < NOISE * 255] = 0
    lined = strength > 0
    strength = without_ruled_lines(strength)
    lines = lined & (strength == 0)
    strength[~digit_region(strength, path)] = 0
    if steps is not None:
        steps["ink"], steps["kept"] = shown(lined * 255.0), shown(strength)
    rows = np.flatnonzero(strength.any(axis=1))
    cols = np.flatnonzero(strength.any(axis=0))
    if doubts is not None and lines[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].any():
        doubts.append("a ruled line crossed the digit")
    digit = thickened(strength[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    height, width = digit.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(digit.astype(np.float32), mode="F")
                       .resize(size, Image.Resampling.LANCZOS), dtype=np.float64)
    small = np.clip(small * (255 / max(small.max(), 1e-9)), 0, 255)
    return centred(small)


def shown(strength, side=256):
    """The ink as a small grey picture (uint8, at most `side` pixels a side) for a figure."""
    picture = Image.fromarray(np.clip(strength, 0, 255).astype(np.uint8), mode="L")
    picture.thumbnail((side, side))
    return np.asarray(picture)


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
