"""Digits drawn as pen strokes, in the shapes people write, and photographed as phones meet them:
pictures the picture pipeline (digits.py) can be measured on that were never MNIST's.

Each digit is a few strokes in a box one unit tall (lines and arcs, `STYLES`: a seven with a
level bar or crossed, a four open or closed, a one with a flag and a foot, and so on), bent a
little at random, slanted, turned and drawn with a pen of some width and pressure. `photo()`
puts the ink on paper in one of `CONDITIONS` (ruled or squared paper, a thumb's shadow, pencil,
the back page showing through, JPEG, a screenshot...). The same seed gives the same picture.

    python -m handwriting.pen_digits OUT_DIR     # one picture per digit, style and condition
"""
import io
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def line(start, end, points=12):
    return np.linspace(start, end, points)


def arc(centre, radii, start, end, points=40):
    """Degrees, clockwise on the page from the right (y grows downward)."""
    angles = np.radians(np.linspace(start, end, points))
    return np.stack([centre[0] + radii[0] * np.cos(angles),
                     centre[1] + radii[1] * np.sin(angles)], axis=1)


def joined(*parts):
    return np.concatenate(parts)


# strokes in a box 0.6 wide and 1 tall, x to the right, y down; each style a list of strokes
STYLES = {
    0: {"oval": [arc((0.3, 0.5), (0.28, 0.49), -95, 268)],
        "narrow": [arc((0.3, 0.5), (0.2, 0.49), -90, 275)]},
    1: {"stroke": [line((0.3, 0.0), (0.3, 1.0))],
        "flag": [joined(line((0.1, 0.22), (0.32, 0.0), 6), line((0.32, 0.0), (0.3, 1.0)))],
        "flag and foot": [joined(line((0.1, 0.22), (0.32, 0.0), 6), line((0.32, 0.0), (0.3, 1.0))),
                          line((0.08, 1.0), (0.52, 1.0))]},
    2: {"level foot": [joined(arc((0.3, 0.27), (0.27, 0.26), 195, 380, 30),
                              line((0.56, 0.36), (0.02, 1.0)), line((0.02, 1.0), (0.6, 1.0)))],
        "curved": [joined(arc((0.3, 0.27), (0.27, 0.26), 190, 370, 30),
                          arc((0.02, 0.36), (0.55, 0.64), 0, 90, 20),
                          line((0.02, 1.0), (0.6, 0.96)))]},
    3: {"round": [joined(arc((0.3, 0.25), (0.25, 0.24), 200, 450, 30),
                         arc((0.3, 0.74), (0.29, 0.26), -90, 155, 30))],
        "flat top": [joined(line((0.05, 0.0), (0.55, 0.0)), line((0.55, 0.0), (0.22, 0.42)),
                            arc((0.3, 0.72), (0.29, 0.28), -105, 155, 30))]},
    4: {"open": [joined(line((0.4, 0.0), (0.02, 0.66)), line((0.02, 0.66), (0.6, 0.66))),
                 line((0.46, 0.28), (0.46, 1.0))],
        "closed": [joined(line((0.44, 0.0), (0.02, 0.66)), line((0.02, 0.66), (0.6, 0.66))),
                   line((0.44, 0.0), (0.44, 1.0))]},
    5: {"bar apart": [line((0.56, 0.0), (0.1, 0.0)),
                      joined(line((0.1, 0.0), (0.06, 0.45)),
                             arc((0.28, 0.7), (0.3, 0.3), -125, 150, 30))],
        "one stroke": [joined(line((0.56, 0.0), (0.1, 0.02)), line((0.1, 0.02), (0.06, 0.45)),
                              arc((0.28, 0.7), (0.3, 0.3), -125, 150, 30))]},
    6: {"loop": [joined(arc((0.58, 0.66), (0.54, 0.64), -112, -180, 20),
                        arc((0.3, 0.74), (0.26, 0.26), 180, 530, 40))],
        "straight stem": [joined(line((0.45, 0.0), (0.06, 0.7)),
                                 arc((0.31, 0.75), (0.26, 0.25), 190, 540, 40))]},
    7: {"level bar": [joined(line((0.0, 0.0), (0.6, 0.0)), line((0.6, 0.0), (0.2, 1.0)))],
        "crossed": [joined(line((0.0, 0.0), (0.6, 0.0)), line((0.6, 0.0), (0.2, 1.0))),
                    line((0.22, 0.52), (0.56, 0.52))],
        "hooked": [joined(line((0.0, 0.14), (0.0, 0.0), 5), line((0.0, 0.0), (0.6, 0.0)),
                          line((0.6, 0.0), (0.24, 1.0)))],
        "bar apart": [line((0.0, 0.0), (0.6, 0.0)), line((0.58, 0.08), (0.2, 1.0))]},
    8: {"two loops": [joined(arc((0.3, 0.25), (0.22, 0.24), 90, 450, 40),
                             arc((0.3, 0.74), (0.28, 0.26), -90, 270, 40))]},
    9: {"straight stem": [joined(arc((0.3, 0.27), (0.27, 0.26), 0, 375, 40),
                                 line((0.57, 0.3), (0.55, 1.0)))],
        "curved stem": [joined(arc((0.3, 0.27), (0.27, 0.26), 0, 375, 40),
                               arc((0.0, 0.3), (0.57, 0.7), 0, 80, 20))]},
}
CONDITIONS = ("clean", "phone jpeg", "uneven light", "thumb shadow", "lined blue",
              "squared blue", "squared grey", "pencil", "show-through", "blur",
              "small off-centre", "screenshot")


def bent(stroke, rng, amount):
    """The stroke with a smooth random wobble, as a hand draws it."""
    t = np.linspace(0, 1, len(stroke))[:, None]
    wobble = sum(rng.normal(0, amount, 2) * np.sin(np.pi * k * t + rng.uniform(0, np.pi))
                 for k in (1, 2, 3))
    return stroke + wobble


def draw_strokes(digit, style, rng, side, pen):
    """Ink strength 0-1 (side x side) of the digit drawn with a pen `pen` pixels wide."""
    slant, turn = rng.uniform(-0.25, 0.25), np.radians(rng.uniform(-7, 7))
    aspect, height = rng.uniform(0.85, 1.2), rng.uniform(0.62, 0.78) * side
    scale = 2  # drawn at twice the size, then scaled down: smooth edges
    canvas = Image.new("F", (side * scale, side * scale), 0.0)
    draw = ImageDraw.Draw(canvas)
    cos, sin = np.cos(turn), np.sin(turn)
    for stroke in STYLES[digit][style]:
        points = bent(np.asarray(stroke, dtype=np.float64), rng, 0.012)
        x = (points[:, 0] - 0.3) * aspect + slant * (0.5 - points[:, 1])
        y = points[:, 1] - 0.5
        x, y = cos * x - sin * y, sin * x + cos * y
        xy = np.stack([x * height + side / 2, y * height + side / 2], axis=1) * scale
        pressure = rng.uniform(0.75, 1.0)
        width = max(1, round(pen * scale * rng.uniform(0.85, 1.15)))
        coordinates = [tuple(p) for p in xy]
        draw.line(coordinates, fill=pressure, width=width, joint="curve")
        for px, py in (coordinates[0], coordinates[-1]):  # round ends
            draw.ellipse((px - width / 2, py - width / 2, px + width / 2, py + width / 2),
                         fill=pressure)
    return np.asarray(canvas.resize((side, side), Image.Resampling.BOX), dtype=np.float64)


def as_jpeg(image, quality):
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def photo(strength, condition, rng):
    """The ink `strength` (0-1, square) on paper in `condition`, as a phone or screen gives it."""
    side = strength.shape[0]
    if condition == "screenshot":  # a drawing app in dark mode, with the phone's bars
        width, height = int(side * 1.3), int(side * 2.8)
        canvas = np.zeros((height, width))
        top, left = (height - side) // 2, (width - side) // 2
        canvas[top:top + side, left:left + side] = 255 * np.clip(strength / 0.75, 0, 1)
        image = Image.fromarray(canvas.astype(np.uint8), mode="L").convert("RGB")
        draw = ImageDraw.Draw(image)
        draw.text((width // 12, height // 60), "9:41", fill="white", font_size=height // 45)
        draw.rounded_rectangle((width * 3 // 4, height // 60, width * 9 // 10, height // 30),
                               radius=4, fill="white")
        draw.rounded_rectangle((width // 2 - width // 8, height - height // 50,
                                width // 2 + width // 8, height - height // 70), radius=3,
                               fill="white")
        return image
    frame = 1.6 if condition != "small off-centre" else 7.0
    height, width = int(side * frame * 0.75) // 1, int(side * frame)
    height = max(height, side + 8)
    paper = np.array([238.0, 235, 226]) + rng.uniform(-10, 8)
    page = np.broadcast_to(paper, (height, width, 3)).copy()
    rows, cols = np.indices((height, width), dtype=np.float64)
    if condition in ("lined blue", "squared blue", "squared grey"):
        colour = [150.0, 172, 222] if condition != "squared grey" else [165.0, 165, 165]
        spacing = side * rng.uniform(0.2, 0.3)
        slope, thick = rng.uniform(-0.03, 0.03), max(2.0, side / 180)
        phase = rng.uniform(0, spacing)
        across = (rows - slope * cols + phase) % spacing < thick
        if condition != "lined blue":
            across |= (cols + slope * rows + phase) % spacing < thick
        page[across] = colour
    if condition == "show-through":  # the back page's writing, mirrored and faint
        other = np.fliplr(np.roll(strength, (side // 7, -side // 9), axis=(0, 1)))
        back = np.asarray(Image.fromarray((other * 255).astype(np.uint8)).filter(
            ImageFilter.GaussianBlur(side / 150)), dtype=np.float64) / 255
        top, left = (height - side) // 2, (width - side) // 2 + side // 10
        page[top:top + side, left:left + side] *= 1 - 0.18 * back[..., None]
    if condition == "small off-centre":
        top, left = int(rng.uniform(0.05, 0.8) * (height - side)), \
            int(rng.uniform(0.6, 0.95) * (width - side))
    else:
        top, left = (height - side) // 2 + int(rng.integers(-side // 12, side // 12 + 1)), \
            (width - side) // 2 + int(rng.integers(-side // 8, side // 8 + 1))
    if condition == "pencil":  # graphite: grey, grainy, lighter where pressed less
        ink = np.array([95.0, 95, 100])
        grain = rng.uniform(0.55, 1.0, strength.shape)
        strength = strength * grain * rng.uniform(0.75, 0.95)
    else:
        ink = np.array([25.0, 28, 60]) if rng.random() < 0.5 else np.array([20.0, 20, 22])
    region = page[top:top + side, left:left + side]
    region[:] = region * (1 - strength[..., None]) + ink * strength[..., None]
    if condition == "uneven light":  # a lamp to one side
        y, x = rows / height - rng.uniform(0, 1), cols / width - rng.uniform(0, 1)
        page *= (1.0 - 0.5 * np.clip(np.hypot(x, y), 0, 1))[..., None]
    if condition == "thumb shadow":  # a hand's soft shadow over a corner and part of the digit
        cy, cx = rng.uniform(0.7, 1.1) * height, rng.uniform(-0.1, 0.35) * width
        distance = np.hypot((rows - cy) / (0.55 * height), (cols - cx) / (0.35 * width))
        shade = np.clip((1.15 - distance) / 0.3, 0, 1)
        page *= (1 - 0.55 * shade)[..., None]
    image = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8), mode="RGB")
    blur = {"blur": side / 90, "clean": 0.0}.get(condition, side / 400)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    noise = {"clean": 0.0, "phone jpeg": 5.0}.get(condition, 2.5)
    if noise:
        values = np.asarray(image, dtype=np.float64) + rng.normal(0, noise, (height, width, 3))
        image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="RGB")
    if condition in ("phone jpeg", "thumb shadow", "uneven light", "pencil"):
        image = as_jpeg(image, quality=int(rng.integers(60, 90)))
    return image


def pen_digit(digit, style, condition, seed, side=360):
    """One photographed pen-drawn digit; the same arguments give the same picture."""
    rng = np.random.default_rng([seed, digit, list(STYLES[digit]).index(style),
                                 CONDITIONS.index(condition)])
    pen = side * rng.uniform(0.025, 0.07)
    return photo(draw_strokes(digit, style, rng, side, pen), condition, rng)


def every_picture(seed):
    """(digit, style, condition, picture) for every style of every digit in every condition."""
    for condition in CONDITIONS:
        for digit, styles in STYLES.items():
            for style in styles:
                yield digit, style, condition, pen_digit(digit, style, condition, seed)


if __name__ == "__main__":
    import os

    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    for digit, style, condition, picture in every_picture(int(sys.argv[2]) if len(sys.argv) > 2
                                                          else 0):
        picture.save(os.path.join(folder, f"{condition}-{digit}-{style}.png".replace(" ", "_")))
