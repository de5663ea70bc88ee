"""The output picture's tiles as sstiler lays them out: rows = floor(sqrt n),
columns = ceil(n / rows), each camera fitted into its cell keeping its aspect
ratio, centred. Shared by the encode floor's frames, the latency viewer and
the OpenCV peer, so all three draw the same grid as slipstream."""
import math


def tiles_layout(n, width, height):
    """(x, y, w, h) of each of n cells in a width x height picture, row by row."""
    rows = max(1, int(math.floor(math.sqrt(n))))
    cols = (n + rows - 1) // rows
    cells = []
    for i in range(n):
        r, c = divmod(i, cols)
        x0, x1 = c * width // cols, (c + 1) * width // cols
        y0, y1 = r * height // rows, (r + 1) * height // rows
        cells.append((x0, y0, x1 - x0, y1 - y0))
    return cells


def fit_inside(w, h, cell):
    """A w x h picture scaled into cell keeping its aspect ratio, centred: (x, y, w, h)."""
    x, y, cw, ch = cell
    scale = min(cw / w, ch / h)
    fw = max(1, min(cw, int(round(w * scale))))
    fh = max(1, min(ch, int(round(h * scale))))
    return x + (cw - fw) // 2, y + (ch - fh) // 2, fw, fh
