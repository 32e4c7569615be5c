"""Compiled loops behind landmarket.overlay: supporting edges and pair kinds of small polygons.

Exactness: coordinates are compared bitwise, and a vertex counts as off an edge line only when
the cross product clears a relative margin far above floating-point error, so a pair is called
separated (interiors disjoint) only when it truly is.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _side(x0, y0, x1, y1, vx, vy, rel):
    """+1 clearly left of the directed line, -1 clearly right, 0 on it or too close to tell."""
    dx, dy = x1 - x0, y1 - y0
    ux, uy = vx - x0, vy - y0
    cross = dx * uy - dy * ux
    margin = rel * (abs(dx) + abs(dy)) * (abs(ux) + abs(uy))
    if cross > margin:
        return 1
    if cross < -margin:
        return -1
    return 0


@njit(cache=True, nogil=True)
def supporting(ring, count, rel):
    """Orientation sign of each shell and, per edge, whether the whole polygon lies on its inner
    side (vertices exactly on the endpoints or clearly inside)."""
    n, k = ring.shape[0], ring.shape[1]
    sign = np.zeros(n)
    support = np.zeros((n, max(k - 1, 0)), dtype=np.bool_)
    for p in range(n):
        m = count[p]
        twice = 0.0
        for e in range(m - 1):
            twice += ring[p, e, 0] * ring[p, e + 1, 1] - ring[p, e + 1, 0] * ring[p, e, 1]
        if twice == 0.0:
            continue
        s = 1 if twice > 0 else -1
        sign[p] = s
        for e in range(m - 1):
            x0, y0, x1, y1 = ring[p, e, 0], ring[p, e, 1], ring[p, e + 1, 0], ring[p, e + 1, 1]
            if x0 == x1 and y0 == y1:
                continue
            ok = True
            for v in range(m - 1):
                vx, vy = ring[p, v, 0], ring[p, v, 1]
                if (vx == x0 and vy == y0) or (vx == x1 and vy == y1):
                    continue
                if _side(x0, y0, x1, y1, vx, vy, rel) != s:
                    ok = False
                    break
            support[p, e] = ok
    return sign, support


@njit(cache=True, nogil=True)
def _separates(ra, na, sa, supa, rb, nb, rel):
    """Whether a supporting edge of polygon a has every vertex of b on or beyond it."""
    for e in range(na - 1):
        if not supa[e]:
            continue
        x0, y0, x1, y1 = ra[e, 0], ra[e, 1], ra[e + 1, 0], ra[e + 1, 1]
        ok = True
        for v in range(nb - 1):
            vx, vy = rb[v, 0], rb[v, 1]
            if (vx == x0 and vy == y0) or (vx == x1 and vy == y1):
                continue
            if _side(x0, y0, x1, y1, vx, vy, rel) != -sa:
                ok = False
                break
        if ok:
            return True
    return False


@njit(cache=True, nogil=True)
def _same_ring(ra, rb, m):
    """Whether two closed rings of m distinct vertices are the same cycle (any start, either
    direction), compared bitwise."""
    for k in range(m):
        if rb[k, 0] == ra[0, 0] and rb[k, 1] == ra[0, 1]:
            forward = True
            backward = True
            for t in range(m):
                f = (k + t) % m
                r = (k - t) % m
                if rb[f, 0] != ra[t, 0] or rb[f, 1] != ra[t, 1]:
                    forward = False
                if rb[r, 0] != ra[t, 0] or rb[r, 1] != ra[t, 1]:
                    backward = False
                if not (forward or backward):
                    return False
            return True
    return False


@njit(cache=True, nogil=True)
def _inside_convex(ra, na, rb, nb, sb, supb, rel):
    """Whether polygon a lies in polygon b, b convex (every real edge supporting): each vertex
    of a is a vertex of the edge or clearly on its inner side."""
    for e in range(nb - 1):
        x0, y0, x1, y1 = rb[e, 0], rb[e, 1], rb[e + 1, 0], rb[e + 1, 1]
        if x0 == x1 and y0 == y1:
            continue
        if not supb[e]:
            return False
        for v in range(na - 1):
            vx, vy = ra[v, 0], ra[v, 1]
            if (vx == x0 and vy == y0) or (vx == x1 and vy == y1):
                continue
            if _side(x0, y0, x1, y1, vx, vy, rel) != sb:
                return False
    return True


@njit(cache=True, nogil=True)
def kinds(ring_g, count_g, sign_g, sup_g, ring_f, count_f, sign_f, sup_f, pg, pf, rel, whole):
    """Per pair: whole (g the same ring as f, or inside convex f), 0 (an edge separates them),
    or -1 (undecided)."""
    n = len(pg)
    out = np.full(n, -1, dtype=np.int8)
    for p in range(n):
        a, b = pg[p], pf[p]
        na, nb = count_g[a], count_f[b]
        if na == nb and na > 1 and _same_ring(ring_g[a], ring_f[b], na - 1):
            out[p] = whole
            continue
        fwd = sign_g[a] != 0 and _separates(ring_g[a], na, sign_g[a], sup_g[a], ring_f[b], nb, rel)
        if fwd or (
            sign_f[b] != 0 and _separates(ring_f[b], nb, sign_f[b], sup_f[b], ring_g[a], na, rel)
        ):
            out[p] = 0
        elif sign_f[b] != 0 and _inside_convex(
            ring_g[a], na, ring_f[b], nb, sign_f[b], sup_f[b], rel
        ):
            out[p] = whole
    return out


@njit(cache=True, nogil=True)
def pad(coords, counts, k):
    """Rings (n, k, 2) from concatenated coordinates, each padded with its first vertex."""
    n = len(counts)
    out = np.empty((n, k, 2))
    at = 0
    for p in range(n):
        m = counts[p]
        for v in range(k):
            src = at + (v if v < m else 0)
            out[p, v, 0] = coords[src, 0]
            out[p, v, 1] = coords[src, 1]
        at += m
    return out


@njit(cache=True, nogil=True)
def _strip_bound(ra, na, sa, supa, rb, nb, rel):
    """Upper bound of area(a ∩ b) from a's supporting edges: b's vertices reach at most a depth
    d past the edge into a, so a ∩ b lies in a strip of width d along it."""
    best = np.inf
    for e in range(na - 1):
        if not supa[e]:
            continue
        x0, y0, x1, y1 = ra[e, 0], ra[e, 1], ra[e + 1, 0], ra[e + 1, 1]
        dx, dy = x1 - x0, y1 - y0
        length = np.sqrt(dx * dx + dy * dy)
        depth = 0.0
        for v in range(nb - 1):
            ux, uy = rb[v, 0] - x0, rb[v, 1] - y0
            reach = sa * (dx * uy - dy * ux) + rel * (abs(dx) + abs(dy)) * (abs(ux) + abs(uy))
            depth = max(depth, reach / length)
        lo, hi = np.inf, -np.inf
        for v in range(na - 1):
            t = ((ra[v, 0] - x0) * dx + (ra[v, 1] - y0) * dy) / length
            lo, hi = min(lo, t), max(hi, t)
        best = min(best, depth * (hi - lo) * (1.0 + rel) + rel * length * length)
    return best


@njit(cache=True, nogil=True)
def bounds(ring_g, count_g, sign_g, sup_g, ring_f, count_f, sign_f, sup_f, pg, pf, rel):
    """Per pair: an upper bound of the intersection area (inf when no edge gives one)."""
    n = len(pg)
    out = np.full(n, np.inf)
    for p in range(n):
        a, b = pg[p], pf[p]
        na, nb = count_g[a], count_f[b]
        if sign_g[a] != 0:
            out[p] = _strip_bound(ring_g[a], na, sign_g[a], sup_g[a], ring_f[b], nb, rel)
        if sign_f[b] != 0:
            other = _strip_bound(ring_f[b], nb, sign_f[b], sup_f[b], ring_g[a], na, rel)
            out[p] = min(out[p], other)
    return out
