"""Turtle graphics for pyplay, compatible with what beginner courses use.

The standard library's turtle needs Tk; this one sends drawing commands to
the page (runtime/turtle-worker.ts, editor/turtle.ts), which draws them in
an SVG in the Output log. It runs in Pyodide (CPython) and MicroPython, so
it sticks to what both support. Moves are paced as in CPython's turtle
(speed 1-10: a move of d pixels takes 1 + d // (3 * 1.1**speed * speed)
screen updates of delay() ms; speed 0 and tracer(0) draw at once).
"""

import math as _math
import sys as _sys

try:
    import json as _json
except ImportError:  # pragma: no cover
    import ujson as _json

try:
    import pyplay_turtle as _bridge
except ImportError:  # outside pyplay: drawing goes nowhere
    _bridge = None

try:
    import pyplay_io as _io
except ImportError:
    _io = None


class TurtleGraphicsError(Exception):
    """Bad arguments to a turtle function (a colour, a shape)."""


class Terminator(Exception):
    """Raised by turtle functions after bye() closed the window."""


def _unsupported(name, why="pyplay's turtle draws in the Output and cannot take keyboard or mouse events"):
    raise NotImplementedError("turtle." + name + "() is not supported: " + why)


class _Vec(tuple):
    """A 2D vector, as returned by position()."""

    def __add__(self, other):
        return Vec2D(self[0] + other[0], self[1] + other[1])

    def __sub__(self, other):
        return Vec2D(self[0] - other[0], self[1] - other[1])

    def __mul__(self, other):
        if isinstance(other, (tuple, list)):
            return self[0] * other[0] + self[1] * other[1]
        return Vec2D(self[0] * other, self[1] * other)

    def __rmul__(self, other):
        return Vec2D(self[0] * other, self[1] * other)

    def __neg__(self):
        return Vec2D(-self[0], -self[1])

    def __abs__(self):
        return _math.sqrt(self[0] * self[0] + self[1] * self[1])

    def rotate(self, angle):
        a = _math.radians(angle)
        c, s = _math.cos(a), _math.sin(a)
        return Vec2D(self[0] * c - self[1] * s, self[0] * s + self[1] * c)

    def __repr__(self):
        return "(%.2f,%.2f)" % (self[0], self[1])


try:

    class Vec2D(_Vec):
        def __new__(cls, x, y):
            return tuple.__new__(cls, (x, y))

    Vec2D(0, 0)
except (AttributeError, TypeError):  # MicroPython: tuple subclasses take one iterable

    def Vec2D(x, y):
        return _Vec((x, y))


# CSS colour names (Tk 8.6 uses the same values), looked up without case and spaces.
_COLORS = {}
for _entry in (
    "aliceblue f0f8ff antiquewhite faebd7 aqua 00ffff aquamarine 7fffd4 azure f0ffff beige f5f5dc bisque ffe4c4 "
    "black 000000 blanchedalmond ffebcd blue 0000ff blueviolet 8a2be2 brown a52a2a burlywood deb887 cadetblue 5f9ea0 "
    "chartreuse 7fff00 chocolate d2691e coral ff7f50 cornflowerblue 6495ed cornsilk fff8dc crimson dc143c cyan 00ffff "
    "darkblue 00008b darkcyan 008b8b darkgoldenrod b8860b darkgray a9a9a9 darkgreen 006400 darkgrey a9a9a9 "
    "darkkhaki bdb76b darkmagenta 8b008b darkolivegreen 556b2f darkorange ff8c00 darkorchid 9932cc darkred 8b0000 "
    "darksalmon e9967a darkseagreen 8fbc8f darkslateblue 483d8b darkslategray 2f4f4f darkslategrey 2f4f4f "
    "darkturquoise 00ced1 darkviolet 9400d3 deeppink ff1493 deepskyblue 00bfff dimgray 696969 dimgrey 696969 "
    "dodgerblue 1e90ff firebrick b22222 floralwhite fffaf0 forestgreen 228b22 fuchsia ff00ff gainsboro dcdcdc "
    "ghostwhite f8f8ff gold ffd700 goldenrod daa520 gray 808080 green 008000 greenyellow adff2f grey 808080 "
    "honeydew f0fff0 hotpink ff69b4 indianred cd5c5c indigo 4b0082 ivory fffff0 khaki f0e68c lavender e6e6fa "
    "lavenderblush fff0f5 lawngreen 7cfc00 lemonchiffon fffacd lightblue add8e6 lightcoral f08080 lightcyan e0ffff "
    "lightgoldenrodyellow fafad2 lightgray d3d3d3 lightgreen 90ee90 lightgrey d3d3d3 lightpink ffb6c1 "
    "lightsalmon ffa07a lightseagreen 20b2aa lightskyblue 87cefa lightslategray 778899 lightslategrey 778899 "
    "lightsteelblue b0c4de lightyellow ffffe0 lime 00ff00 limegreen 32cd32 linen faf0e6 magenta ff00ff maroon 800000 "
    "mediumaquamarine 66cdaa mediumblue 0000cd mediumorchid ba55d3 mediumpurple 9370db mediumseagreen 3cb371 "
    "mediumslateblue 7b68ee mediumspringgreen 00fa9a mediumturquoise 48d1cc mediumvioletred c71585 "
    "midnightblue 191970 mintcream f5fffa mistyrose ffe4e1 moccasin ffe4b5 navajowhite ffdead navy 000080 "
    "navyblue 000080 oldlace fdf5e6 olive 808000 olivedrab 6b8e23 orange ffa500 orangered ff4500 orchid da70d6 "
    "palegoldenrod eee8aa palegreen 98fb98 paleturquoise afeeee palevioletred db7093 papayawhip ffefd5 "
    "peachpuff ffdab9 peru cd853f pink ffc0cb plum dda0dd powderblue b0e0e6 purple 800080 rebeccapurple 663399 "
    "red ff0000 rosybrown bc8f8f royalblue 4169e1 saddlebrown 8b4513 salmon fa8072 sandybrown f4a460 "
    "seagreen 2e8b57 seashell fff5ee sienna a0522d silver c0c0c0 skyblue 87ceeb slateblue 6a5acd slategray 708090 "
    "slategrey 708090 snow fffafa springgreen 00ff7f steelblue 4682b4 tan d2b48c teal 008080 thistle d8bfd8 "
    "tomato ff6347 turquoise 40e0d0 violet ee82ee wheat f5deb3 white ffffff whitesmoke f5f5f5 yellow ffff00 "
    "yellowgreen 9acd32"
).split(" "),:
    for _i in range(0, len(_entry), 2):
        _COLORS[_entry[_i]] = "#" + _entry[_i + 1]
del _entry, _i


def _named(name):
    """The #rrggbb of a colour name or #rgb/#rrggbb string, or None."""
    key = name.replace(" ", "").lower()
    if key in _COLORS:
        return _COLORS[key]
    if key.startswith("#") and len(key) in (4, 7):
        try:
            int(key[1:], 16)
        except ValueError:
            return None
        if len(key) == 4:
            return "#" + "".join(c + c for c in key[1:])
        return key
    for g in ("gray", "grey"):
        if key.startswith(g) and key[4:].isdigit() and int(key[4:]) <= 100:
            v = int(int(key[4:]) * 255 / 100 + 0.5)
            return "#%02x%02x%02x" % (v, v, v)
    return None


# Shapes as in CPython's turtle: points with y along the heading.
_SHAPES = {
    "arrow": ((-10, 0), (10, 0), (0, 10)),
    "turtle": ((0, 16), (-2, 14), (-1, 10), (-4, 7), (-7, 9), (-9, 8), (-6, 5), (-7, 1), (-5, -3), (-8, -6),
               (-6, -8), (-4, -5), (0, -7), (4, -5), (6, -8), (8, -6), (5, -3), (7, 1), (6, 5), (9, 8), (7, 9),
               (4, 7), (1, 10), (2, 14)),
    "circle": ((10, 0), (9.51, 3.09), (8.09, 5.88), (5.88, 8.09), (3.09, 9.51), (0, 10), (-3.09, 9.51),
               (-5.88, 8.09), (-8.09, 5.88), (-9.51, 3.09), (-10, 0), (-9.51, -3.09), (-8.09, -5.88),
               (-5.88, -8.09), (-3.09, -9.51), (0, -10), (3.09, -9.51), (5.88, -8.09), (8.09, -5.88),
               (9.51, -3.09)),
    "square": ((10, -10), (10, 10), (-10, 10), (-10, -10)),
    "triangle": ((10, -5.77), (0, 11.55), (-10, -5.77)),
    "classic": ((0, 0), (-5, -9), (0, -7), (5, -9)),
    "blank": (),
}

_SPEEDS = {"fastest": 0, "fast": 10, "normal": 6, "slow": 3, "slowest": 1}


def _r(v):
    return round(v, 2)


def _num(v, what):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    raise TypeError(what + " must be a number, not " + type(v).__name__)


def _send(*op):
    """Sends one drawing op to the page, after the text printed before it."""
    if _closed[0]:
        raise Terminator("the turtle window was closed (bye())")
    for stream in (_sys.stdout, _sys.stderr):
        f = getattr(stream, "flush", None)
        if f is not None:
            f()
    if _bridge is not None:
        _bridge.draw(_json.dumps(op))


def _pace(ms):
    if ms > 0 and _io is not None:
        _io.sleep(ms / 1000)


_closed = [False]
_screen = None


class _Screen:
    """The drawing area (there is one): Screen() returns it."""

    def __init__(self):
        self._turtles = []
        self._w, self._h = 400, 400
        self._canvsize = (400, 400)
        self._bg = "white"
        self._tracing = 1
        self._delay = 10
        self._colormode = 1.0
        self._mode = "standard"
        self._shapes = dict(_SHAPES)
        self._sent_shapes = set()
        self._timers = []
        self._title = ""
        _send("screen", self._w, self._h, "#ffffff")

    # colours
    def _colorstr(self, args):
        color = args[0] if len(args) == 1 else args
        if isinstance(color, str):
            if color == "":
                return color, "none"
            hx = _named(color)
            if hx is None:
                raise TurtleGraphicsError("bad color string: " + color)
            return color, hx
        try:
            r, g, b = color
        except (TypeError, ValueError):
            raise TurtleGraphicsError("bad color arguments: " + str(color))
        for c in (r, g, b):
            _num(c, "a colour component")
        if self._colormode == 1.0:
            r, g, b = round(255.0 * r), round(255.0 * g), round(255.0 * b)
        if not (0 <= r <= 255 and 0 <= g <= 255 and 0 <= b <= 255):
            raise TurtleGraphicsError("bad color sequence: " + str(color))
        hx = "#%02x%02x%02x" % (int(r), int(g), int(b))
        return hx, hx

    def _color(self, cstr):
        if not cstr.startswith("#"):
            return cstr
        if len(cstr) == 4:
            cl = [16 * int(h, 16) for h in cstr[1:]]
        else:
            cl = [int(cstr[i:i + 2], 16) for i in (1, 3, 5)]
        return tuple(c * self._colormode / 255 for c in cl)

    def colormode(self, cmode=None):
        if cmode is None:
            return self._colormode
        if cmode == 1.0:
            self._colormode = float(cmode)
        elif cmode == 255:
            self._colormode = int(cmode)
        else:
            raise TurtleGraphicsError("colormode must be 1.0 or 255, not " + repr(cmode))

    def bgcolor(self, *args):
        if not args:
            return self._color(self._bg)
        self._bg, hx = self._colorstr(args)
        _send("bg", hx if hx != "none" else "#ffffff")

    # window
    def setup(self, width=None, height=None, startx=None, starty=None):
        def size(v, cur):
            if v is None:
                return cur
            _num(v, "setup() size")
            if isinstance(v, float) and 0 <= v <= 1:
                v = v * 800
            if v < 1:
                raise ValueError("setup() size must be positive")
            return int(v)

        self._w, self._h = size(width, self._w), size(height, self._h)
        _send("screen", self._w, self._h, None)

    def window_width(self):
        return self._w

    def window_height(self):
        return self._h

    def screensize(self, canvwidth=None, canvheight=None, bg=None):
        if canvwidth is None and canvheight is None and bg is None:
            return self._canvsize
        w, h = self._canvsize
        self._canvsize = (canvwidth or w, canvheight or h)
        if bg is not None:
            self.bgcolor(bg)

    def title(self, titlestring):
        self._title = str(titlestring)
        _send("title", self._title)

    def mode(self, mode=None):
        if mode is None:
            return self._mode
        mode = mode.lower()
        if mode == "world":
            _unsupported("mode('world')", "world coordinates (setworldcoordinates) are not available")
        if mode not in ("standard", "logo"):
            raise TurtleGraphicsError("No turtle-graphics-mode " + mode)
        self._mode = mode
        for t in self._turtles:
            t.reset()

    # animation
    def tracer(self, n=None, delay=None):
        if n is None:
            return self._tracing
        self._tracing = int(n)
        if delay is not None:
            self._delay = int(delay)
        if _bridge is not None:
            _bridge.hold(self._tracing == 0)

    def update(self):
        if _bridge is not None:
            _bridge.update()

    def delay(self, delay=None):
        if delay is None:
            return self._delay
        self._delay = int(delay)

    # turtles and shapes
    def turtles(self):
        return list(self._turtles)

    def register_shape(self, name, shape=None):
        if shape is None or isinstance(name, str) and name.lower().endswith(".gif"):
            _unsupported("register_shape", "image shapes (.gif) are not available; give a polygon: register_shape(name, ((x1, y1), (x2, y2), ...))")
        pts = []
        for p in shape:
            x, y = p
            pts.append((_num(x, "a shape point"), _num(y, "a shape point")))
        self._shapes[name] = tuple(pts)
        self._sent_shapes.discard(name)

    addshape = register_shape

    def getshapes(self):
        return sorted(self._shapes)

    def _use_shape(self, name):
        if name not in self._sent_shapes:
            pts = []
            for x, y in self._shapes[name]:
                pts.append(_r(x))
                pts.append(_r(y))
            _send("shape", name, pts)
            self._sent_shapes.add(name)

    # clearing
    def clear(self):
        global _pen
        _send("clearall")
        self._turtles = []
        self._bg = "white"
        self._tracing = 1
        self._timers = []
        if _bridge is not None:
            _bridge.hold(False)
        _pen = None

    clearscreen = clear

    def reset(self):
        for t in self._turtles:
            t.reset()

    resetscreen = reset

    # the event loop: only timers
    def ontimer(self, fun, t=0):
        self._timers.append((_now() + max(0, t), len(self._timers), fun))

    def mainloop(self):
        """Runs the timers set with ontimer() until there are none (the drawing stays in the Output)."""
        self.update()
        while self._timers and not _closed[0]:
            self._timers.sort(key=lambda e: (e[0], e[1]))
            due, _, fun = self._timers.pop(0)
            wait = due - _now()
            if wait > 0:
                _pace(wait)
            fun()
        self.update()

    done = mainloop

    def exitonclick(self):
        self.mainloop()

    def bye(self):
        self.update()
        _closed[0] = True

    def listen(self, xdummy=None, ydummy=None):
        pass  # keys never arrive; onkey() and friends say so

    def onkey(self, fun, key=None):
        _unsupported("onkey")

    def onkeypress(self, fun, key=None):
        _unsupported("onkeypress")

    def onkeyrelease(self, fun, key=None):
        _unsupported("onkeyrelease")

    def onclick(self, fun, btn=1, add=None):
        _unsupported("onscreenclick")

    onscreenclick = onclick

    def textinput(self, title, prompt):
        return _ask(prompt)

    def numinput(self, title, prompt, default=None, minval=None, maxval=None):
        while True:
            line = _ask(prompt)
            if line is None:
                return None
            line = line.strip()
            if line == "" and default is not None:
                return default
            try:
                v = float(line)
            except ValueError:
                print("Please enter a number.")
                continue
            if minval is not None and v < minval or maxval is not None and v > maxval:
                print("Please enter a number between %s and %s." % (minval, maxval))
                continue
            return v

    def bgpic(self, picname=None):
        if picname is None:
            return "nopic"
        _unsupported("bgpic", "background images are not available")

    def setworldcoordinates(self, llx, lly, urx, ury):
        _unsupported("setworldcoordinates", "world coordinates are not available")

    def getcanvas(self):
        _unsupported("getcanvas", "there is no Tk canvas in the browser")


TurtleScreen = _Screen


def _now():
    try:
        import time

        return time.ticks_ms() if hasattr(time, "ticks_ms") else time.monotonic() * 1000
    except Exception:  # pragma: no cover
        return 0


def _ask(prompt):
    prompt = str(prompt)
    _sys.stdout.write(prompt + " ")
    f = getattr(_sys.stdout, "flush", None)
    if f is not None:
        f()
    if _io is None:
        return input()
    line = _io.readline(prompt)
    if line is None:
        raise KeyboardInterrupt
    return line


def Screen():
    """The drawing area (created on first use)."""
    global _screen
    if _closed[0]:
        raise Terminator("the turtle window was closed (bye())")
    if _screen is None:
        _screen = _Screen()
    return _screen


_next_id = [0]
# Exact directions for multiples of 90 degrees, so squares have whole-number corners.
_AXES = {0: (1.0, 0.0), 90: (0.0, 1.0), 180: (-1.0, 0.0), 270: (0.0, -1.0)}


def _dir(deg):
    d = _AXES.get(deg)
    if d is not None:
        return d
    a = _math.radians(deg)
    return _math.cos(a), _math.sin(a)


class Turtle:
    """A turtle that draws on the Screen."""

    def __init__(self, shape="classic", undobuffersize=1000, visible=True):
        self.screen = Screen()
        if shape not in self.screen._shapes:
            raise TurtleGraphicsError("There is no shape named " + str(shape))
        _next_id[0] += 1
        self._id = _next_id[0]
        self._shape = shape
        self._visible = bool(visible)
        self._fullcircle = 360.0
        self._init_state()
        self.screen._turtles.append(self)
        self._look()

    def _init_state(self):
        self._x = self._y = 0.0
        self._h = 0.0  # degrees counterclockwise from east
        self._down = True
        self._pencolor, self._penhex = "black", "#000000"
        self._fillcolor, self._fillhex = "black", "#000000"
        self._width = 1
        self._speed = 3
        self._stretch = (1.0, 1.0)
        self._outline = 1
        self._tilt = 0.0
        self._fill = None
        self._poly = None
        self._stamps = []
        self._resizemode = "noresize"
        if self.screen._mode == "logo":
            self._h = 90.0

    # ---- the page's picture of this turtle
    def _look(self):
        self.screen._use_shape(self._shape)
        _send("look", self._id, self._shape, 1 if self._visible else 0, self._penhex, self._fillhex,
              self._stretch[0], self._stretch[1], self._outline, _r(self._tilt), _r(self._x), _r(self._y),
              _r(self._h))

    def _animated(self):
        return self._speed != 0 and self.screen._tracing == 1

    # ---- moving
    def _goto(self, x, y, draw=True):
        sx, sy = self._x, self._y
        ms = 0
        if self._animated():
            dist = _math.sqrt((x - sx) ** 2 + (y - sy) ** 2)
            sp = self._speed
            ms = (1 + int(dist / (3 * 1.1 ** sp * sp))) * self.screen._delay
        self._x, self._y = x, y
        if self._fill is not None:
            self._fill.append((x, y))
        if self._poly is not None:
            self._poly.append(Vec2D(x, y))
        if self._down and draw:
            _send("l", self._id, _r(sx), _r(sy), _r(x), _r(y), ms, self._penhex, self._width)
        else:
            _send("m", self._id, _r(sx), _r(sy), _r(x), _r(y), ms)
        _pace(ms)

    def _go(self, distance):
        dx, dy = _dir(self._h)
        self._goto(self._x + dx * distance, self._y + dy * distance)

    def _turn(self, deg, animate=True):
        ms = 0
        if animate and self._visible and self._animated():
            ms = (1 + int(abs(deg) / (3.0 * self._speed))) * self.screen._delay
        h = (self._h + deg) % 360.0
        if abs(h - round(h)) < 1e-9:
            h = float(round(h) % 360)
        self._h = h
        _send("t", self._id, _r(h), _r(deg), ms)
        _pace(ms)

    def _dpu(self):
        return 360.0 / self._fullcircle

    def forward(self, distance):
        self._go(_num(distance, "forward() distance"))

    fd = forward

    def back(self, distance):
        self._go(-_num(distance, "back() distance"))

    bk = backward = back

    def left(self, angle):
        self._turn(_num(angle, "left() angle") * self._dpu())

    lt = left

    def right(self, angle):
        self._turn(-_num(angle, "right() angle") * self._dpu())

    rt = right

    def _xy(self, x, y, what):
        if y is None:
            if isinstance(x, Turtle):
                return x._x, x._y
            try:
                x, y = x
            except (TypeError, ValueError):
                raise TypeError(what + " needs x and y, a (x, y) pair or a turtle")
        return _num(x, what + " x"), _num(y, what + " y")

    def goto(self, x, y=None):
        x, y = self._xy(x, y, "goto()")
        self._goto(x, y)

    setpos = setposition = goto

    def teleport(self, x=None, y=None, fill_gap=False):
        fill = self._fill
        if not fill_gap:
            self._fill = None
        self._goto(self._x if x is None else _num(x, "x"), self._y if y is None else _num(y, "y"), draw=False)
        self._fill = fill

    def setx(self, x):
        self._goto(_num(x, "setx() x"), self._y)

    def sety(self, y):
        self._goto(self._x, _num(y, "sety() y"))

    def home(self):
        self.goto(0, 0)
        self.setheading(0)

    def position(self):
        return Vec2D(self._x, self._y)

    pos = position

    def xcor(self):
        return self._x

    def ycor(self):
        return self._y

    def distance(self, x, y=None):
        x, y = self._xy(x, y, "distance()")
        return _math.sqrt((x - self._x) ** 2 + (y - self._y) ** 2)

    def _user_angle(self, deg):
        """An angle in standard degrees as the user sees it (mode, degrees/radians)."""
        deg = round(deg, 10) % 360.0
        if self.screen._mode == "logo":
            deg = (90.0 - deg) % 360.0
        return deg / self._dpu() % self._fullcircle

    def towards(self, x, y=None):
        x, y = self._xy(x, y, "towards()")
        return self._user_angle(_math.degrees(_math.atan2(y - self._y, x - self._x)))

    def heading(self):
        return self._user_angle(self._h)

    def setheading(self, to_angle):
        to = _num(to_angle, "setheading() angle")
        angle = (to - self.heading()) * (-1 if self.screen._mode == "logo" else 1)
        full = self._fullcircle
        angle = (angle + full / 2.0) % full - full / 2.0
        self._turn(angle * self._dpu())

    seth = setheading

    def degrees(self, fullcircle=360.0):
        self._fullcircle = float(_num(fullcircle, "degrees() fullcircle"))

    def radians(self):
        self._fullcircle = 2 * _math.pi

    def circle(self, radius, extent=None, steps=None):
        radius = _num(radius, "circle() radius")
        if extent is None:
            extent = self._fullcircle
        extent = _num(extent, "circle() extent")
        if steps is None:
            frac = abs(extent) / self._fullcircle
            steps = 1 + int(min(11 + abs(radius) / 6.0, 59.0) * frac)
        steps = int(_num(steps, "circle() steps"))
        if steps < 1:
            raise ValueError("circle() steps must be at least 1")
        w = 1.0 * extent / steps * self._dpu()  # degrees
        w2 = 0.5 * w
        length = 2.0 * radius * _math.sin(_math.radians(w2))
        if radius < 0:
            length, w, w2 = -length, -w, -w2
        self._turn(w2, False)
        for _ in range(steps):
            self._go(length)
            self._turn(w, False)
        self._turn(-w2, False)

    # ---- pen
    def penup(self):
        self._down = False

    pu = up = penup

    def pendown(self):
        self._down = True

    pd = down = pendown

    def isdown(self):
        return self._down

    def pensize(self, width=None):
        if width is None:
            return self._width
        width = _num(width, "pensize()")
        if width < 0:
            raise ValueError("pensize() must not be negative")
        self._width = width

    width = pensize

    def speed(self, speed=None):
        if speed is None:
            return self._speed
        if isinstance(speed, str):
            if speed not in _SPEEDS:
                raise TurtleGraphicsError("speed must be 0-10 or one of " + ", ".join(sorted(_SPEEDS)))
            speed = _SPEEDS[speed]
        else:
            speed = _num(speed, "speed()")
            speed = int(round(speed)) if 0.5 < speed < 10.5 else 0
        self._speed = speed

    def pencolor(self, *args):
        if not args:
            return self.screen._color(self._pencolor)
        self._pencolor, self._penhex = self.screen._colorstr(args)
        self._look()

    def fillcolor(self, *args):
        if not args:
            return self.screen._color(self._fillcolor)
        self._fillcolor, self._fillhex = self.screen._colorstr(args)
        self._look()

    def color(self, *args):
        if not args:
            return self.pencolor(), self.fillcolor()
        s = self.screen
        if len(args) == 1:
            self._pencolor, self._penhex = self._fillcolor, self._fillhex = s._colorstr(args)
        elif len(args) == 2:
            self._pencolor, self._penhex = s._colorstr((args[0],))
            self._fillcolor, self._fillhex = s._colorstr((args[1],))
        elif len(args) == 3:
            self._pencolor, self._penhex = self._fillcolor, self._fillhex = s._colorstr(args)
        else:
            raise TurtleGraphicsError("color() takes 0 to 3 arguments, got " + str(len(args)))
        self._look()

    def pen(self, pen=None, **pendict):
        state = {
            "shown": self._visible, "pendown": self._down, "pencolor": self.pencolor(),
            "fillcolor": self.fillcolor(), "pensize": self._width, "speed": self._speed,
            "resizemode": self._resizemode, "stretchfactor": self._stretch, "outline": self._outline,
            "tilt": self._tilt,
        }
        if pen is None and not pendict:
            return state
        changes = dict(pen or {})
        changes.update(pendict)
        for k, v in changes.items():
            if k == "shown":
                self._visible = bool(v)
            elif k == "pendown":
                self._down = bool(v)
            elif k == "pencolor":
                self._pencolor, self._penhex = self.screen._colorstr((v,))
            elif k == "fillcolor":
                self._fillcolor, self._fillhex = self.screen._colorstr((v,))
            elif k == "pensize":
                self.pensize(v)
            elif k == "speed":
                self.speed(v)
            elif k == "resizemode":
                self._resizemode = v
            elif k == "stretchfactor":
                self._stretch = (float(v[0]), float(v[1]))
            elif k == "outline":
                self._outline = v
            elif k == "tilt":
                self._tilt = float(v)
            else:
                raise TurtleGraphicsError("pen() has no attribute " + repr(k))
        self._look()

    # ---- filling
    def filling(self):
        return self._fill is not None

    def begin_fill(self):
        self._fill = [(self._x, self._y)]
        _send("bf", self._id)

    def end_fill(self):
        if self._fill is None:
            return
        pts = []
        for x, y in self._fill:
            pts.append(_r(x))
            pts.append(_r(y))
        self._fill = None
        _send("ef", self._id, self._fillhex, pts)

    def begin_poly(self):
        self._poly = [Vec2D(self._x, self._y)]

    def end_poly(self):
        self._polydone = tuple(self._poly or ())
        self._poly = None

    def get_poly(self):
        return getattr(self, "_polydone", None)

    # ---- drawing without moving
    def dot(self, size=None, *color):
        if not color:
            if isinstance(size, (str, tuple)):
                hx = self.screen._colorstr((size,))[1]
                size = None
            else:
                hx = self._penhex
        else:
            hx = self.screen._colorstr(color)[1]
        if size is None:
            size = self._width + max(self._width, 4)
        size = _num(size, "dot() size")
        _send("dot", self._id, _r(self._x), _r(self._y), _r(size), hx)

    def write(self, arg, move=False, align="left", font=("Arial", 8, "normal")):
        align = str(align).lower()
        if align not in ("left", "center", "right"):
            raise ValueError("write() align must be 'left', 'center' or 'right', not " + repr(align))
        text = str(arg)
        family, size, style = "Arial", 8, "normal"
        if isinstance(font, (tuple, list)):
            if len(font) > 0:
                family = str(font[0])
            if len(font) > 1:
                size = _num(font[1], "write() font size")
            if len(font) > 2:
                style = str(font[2])
        _send("write", self._id, _r(self._x), _r(self._y), text, align, family, abs(size), style, self._penhex)
        if move:
            # The page measures text; this estimate (0.6 em a character) keeps the worker from waiting for it.
            width = max(len(line) for line in text.split("\n")) * abs(size) * 4 / 3 * 0.6
            start = {"left": 0, "center": -width / 2, "right": -width}[align]
            self._goto(self._x + start + width, self._y)

    def stamp(self):
        self.screen._use_shape(self._shape)
        _next_id[0] += 1
        sid = _next_id[0]
        self._stamps.append(sid)
        _send("stamp", self._id, sid)
        return sid

    def clearstamp(self, stampid):
        if stampid in self._stamps:
            self._stamps.remove(stampid)
            _send("unstamp", self._id, stampid)

    def clearstamps(self, n=None):
        if n is None:
            todo = self._stamps[:]
        elif n >= 0:
            todo = self._stamps[:n]
        else:
            todo = self._stamps[n:]
        for sid in todo:
            self.clearstamp(sid)

    # ---- the turtle's look
    def shape(self, name=None):
        if name is None:
            return self._shape
        if name not in self.screen._shapes:
            raise TurtleGraphicsError("There is no shape named " + str(name))
        self._shape = name
        self._look()

    def showturtle(self):
        self._visible = True
        self._look()

    st = showturtle

    def hideturtle(self):
        self._visible = False
        self._look()

    ht = hideturtle

    def isvisible(self):
        return self._visible

    def shapesize(self, stretch_wid=None, stretch_len=None, outline=None):
        if stretch_wid is None and stretch_len is None and outline is None:
            return self._stretch[0], self._stretch[1], self._outline
        wid, ln = self._stretch
        if stretch_wid is not None:
            wid = _num(stretch_wid, "shapesize()")
            if stretch_len is None:
                ln = wid
        if stretch_len is not None:
            ln = _num(stretch_len, "shapesize()")
        self._stretch = (wid, ln)
        if outline is not None:
            self._outline = _num(outline, "shapesize() outline")
        self._look()

    turtlesize = shapesize

    def resizemode(self, rmode=None):
        if rmode is None:
            return self._resizemode
        self._resizemode = rmode

    def tilt(self, angle):
        self._tilt = (self._tilt + _num(angle, "tilt()") * self._dpu()) % 360.0
        self._look()

    def tiltangle(self, angle=None):
        if angle is None:
            return self._tilt / self._dpu()
        self._tilt = _num(angle, "tiltangle()") * self._dpu() % 360.0
        self._look()

    settiltangle = tiltangle

    def get_shapepoly(self):
        return self.screen._shapes.get(self._shape)

    # ---- clearing
    def clear(self):
        self._fill = None
        self._stamps = []
        _send("clear", self._id)

    def reset(self):
        self._init_state()
        _send("clear", self._id)
        self._look()

    # ---- other turtles, the screen
    def clone(self):
        t = Turtle(self._shape, visible=self._visible)
        for k in ("_x", "_y", "_h", "_down", "_pencolor", "_penhex", "_fillcolor", "_fillhex", "_width",
                  "_speed", "_stretch", "_outline", "_tilt", "_fullcircle", "_resizemode"):
            setattr(t, k, getattr(self, k))
        t._look()
        return t

    def getscreen(self):
        return self.screen

    def getturtle(self):
        return self

    getpen = getturtle

    def setundobuffer(self, size):
        pass

    def undobufferentries(self):
        return 0

    def undo(self):
        _unsupported("undo", "pyplay's turtle keeps no undo buffer")

    def onclick(self, fun, btn=1, add=None):
        _unsupported("onclick")

    def onrelease(self, fun, btn=1, add=None):
        _unsupported("onrelease")

    def ondrag(self, fun, btn=1, add=None):
        _unsupported("ondrag")

    def shearfactor(self, shear=None):
        _unsupported("shearfactor", "only stretch (shapesize) and tilt are available")

    def shapetransform(self, t11=None, t12=None, t21=None, t22=None):
        _unsupported("shapetransform", "only stretch (shapesize) and tilt are available")


Pen = RawTurtle = RawPen = Turtle

_pen = None


def getturtle():
    """The turtle the module-level functions move (created on first use)."""
    global _pen
    if _pen is None:
        _pen = Turtle()
    return _pen


getpen = getturtle


def getscreen():
    return Screen()


_TURTLE_FUNCTIONS = (
    "back backward begin_fill begin_poly bk circle clear clearstamp clearstamps clone color degrees distance "
    "dot down end_fill end_poly fd fillcolor filling forward get_poly get_shapepoly goto heading hideturtle "
    "home ht isdown isvisible left lt onclick ondrag onrelease pd pen pencolor pendown pensize penup pos "
    "position pu radians right reset resizemode rt seth setheading setpos setposition settiltangle "
    "setundobuffer setx sety shape shapesize shapetransform shearfactor showturtle speed st stamp teleport "
    "tilt tiltangle towards turtlesize undo undobufferentries up width write xcor ycor"
).split()
_SCREEN_FUNCTIONS = (
    "addshape bgcolor bgpic bye clearscreen colormode delay exitonclick getcanvas getshapes listen mainloop "
    "mode numinput onkey onkeypress onkeyrelease onscreenclick ontimer register_shape resetscreen screensize "
    "setup setworldcoordinates textinput title tracer turtles update window_height window_width done"
).split()


def _on_turtle(name):
    def f(*args, **kw):
        return getattr(getturtle(), name)(*args, **kw)

    return f


def _on_screen(name):
    def f(*args, **kw):
        return getattr(Screen(), name)(*args, **kw)

    return f


for _n in _TURTLE_FUNCTIONS:
    globals()[_n] = _on_turtle(_n)
for _n in _SCREEN_FUNCTIONS:
    globals()[_n] = _on_screen(_n)
del _n

__all__ = (
    ["Screen", "Turtle", "RawTurtle", "Pen", "RawPen", "TurtleScreen", "Vec2D", "Terminator",
     "TurtleGraphicsError", "getturtle", "getpen", "getscreen"]
    + _TURTLE_FUNCTIONS + _SCREEN_FUNCTIONS
)
