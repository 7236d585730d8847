"""Pictures of digits as people take them with a phone (issue 33), made from MNIST digits so
that the right answer is known: a photo of paper with camera noise, a shadow across the page, a
small digit in a 12-megapixel photo, a dark-mode screenshot of a drawing app with the phone's
status bar and home bar, a digit drawn with a one-pixel pen, a sheet on a dark desk, and a
notebook's ruled lines crossing the digit."""
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

KINDS = ("noise 3", "noise 5", "shadow", "small in 12 MP", "dark screenshot", "hairline",
         "sheet on a desk", "lined notebook")


def as_jpeg(image, quality=85):
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def ink_strength(digit, side):
    """An MNIST digit (light on black) as ink strength 0-1 at side x side pixels."""
    big = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(big, dtype=np.float64) / 255, 0, 1)


def photo(digit, rng, size=(1600, 1200), side=520, at=(540, 340), sigma=3.0, light=None,
          sheet=None, ruled=None):
    """Blue-black ink on off-white paper, photographed: grain of `sigma` grey levels, a little
    blur, JPEG; `light` multiplies the page (a shadow); `sheet` (left, top, right, bottom): the
    paper covers only that part of the picture, on a dark wooden desk; `ruled` (spacing,
    slope): a notebook's light blue lines, 3 pixels wide, under the digit."""
    height, width = size[1], size[0]
    paper, ink = np.array([236.0, 232, 222]), np.array([35.0, 38, 70])
    page = np.broadcast_to(paper, (height, width, 3)).copy()
    if ruled is not None:
        spacing, slope = ruled
        across = np.arange(height)[:, None] - slope * np.arange(width)[None, :]
        page[across % spacing < 3] = [150.0, 170, 220]
    if sheet is not None:
        desk = np.array([92.0, 64, 40]) + 12 * np.sin(np.arange(width) / 9.0)[None, :, None]
        desk = np.broadcast_to(desk, (height, width, 3)).copy()
        left, top, right, bottom = sheet
        desk[top:bottom, left:right] = paper
        page = desk
    strength = ink_strength(digit, side)[..., None]
    top, left = at[1], at[0]
    page[top:top + side, left:left + side] = (page[top:top + side, left:left + side]
                                              * (1 - strength) + ink * strength)
    if light is not None:
        page *= light[..., None]
    lens = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8), mode="RGB")
    page = np.asarray(lens.filter(ImageFilter.GaussianBlur(1.2)), dtype=np.float64)
    page = page + rng.normal(0, sigma, page.shape)  # the sensor's grain, after the lens
    return as_jpeg(Image.fromarray(np.clip(page, 0, 255).astype(np.uint8), mode="RGB"))


def shadow(width, height):
    """Light falling from the left: the right of the page at 40% of the left's."""
    return np.broadcast_to(np.linspace(1.0, 0.4, width), (height, width))


def dark_screenshot(digit, size=(1170, 2532)):
    """A drawing app in dark mode: white strokes on black, the status bar's time, signal and
    battery at the top, the home bar at the bottom."""
    width, height = size
    canvas = np.zeros((height, width))
    side = 900
    top = (height - side) // 2
    canvas[top:top + side, 135:135 + side] = 255 * ink_strength(digit, side)
    image = Image.fromarray(canvas.astype(np.uint8), mode="L").convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.text((90, 40), "9:41", fill="white", font_size=56)
    for i, bar in enumerate((14, 22, 30, 38)):  # signal
        draw.rectangle((820 + 18 * i, 90 - bar, 832 + 18 * i, 90), fill="white")
    draw.rounded_rectangle((950, 52, 1060, 96), radius=12, outline="white", width=4)  # battery
    draw.rounded_rectangle((958, 60, 1040, 88), radius=6, fill="white")
    draw.rounded_rectangle((width // 2 - 140, height - 40, width // 2 + 140, height - 26),
                           radius=7, fill="white")  # home bar
    return image


def hairline(digit, side=600):
    """The digit's centre line, drawn one pixel wide in black on white."""
    strength = ink_strength(digit, side)
    core = strength > 0.5
    # the centre line: points of the stroke farther from its edge than any neighbour
    distance = np.zeros_like(strength)
    layer = core.copy()
    while layer.any():
        distance += layer
        shrunk = layer.copy()
        shrunk[1:] &= layer[:-1]
        shrunk[:-1] &= layer[1:]
        shrunk[:, 1:] &= layer[:, :-1]
        shrunk[:, :-1] &= layer[:, 1:]
        layer = shrunk
    padded = np.pad(distance, 1)
    neighbours = np.max([padded[1 + dy:1 + dy + side, 1 + dx:1 + dx + side]
                         for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx], axis=0)
    ridge = (distance > 0) & (distance >= neighbours)
    return Image.fromarray(np.where(ridge, 0, 255).astype(np.uint8), mode="L")


def picture(kind, digit, seed=0):
    rng = np.random.default_rng(seed)
    if kind.startswith("noise"):
        return photo(digit, rng, sigma=float(kind.split()[1]))
    if kind == "shadow":
        return photo(digit, rng, light=shadow(1600, 1200))
    if kind == "small in 12 MP":
        return photo(digit, rng, size=(4000, 3000), side=260, at=(3500, 2600))
    if kind == "dark screenshot":
        return dark_screenshot(digit)
    if kind == "hairline":
        return hairline(digit)
    if kind == "sheet on a desk":
        return photo(digit, rng, sheet=(260, 150, 1380, 1080))
    if kind == "lined notebook":
        return photo(digit, rng, ruled=(70, 0.02))
    raise ValueError(kind)
