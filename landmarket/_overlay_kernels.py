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
def kinds(ring_g, count_g, sign_g, sup_g, ring_f, count_f, sign_f, sup_f, pg, pf, rel, whole):
    """Per pair: whole (identical rings), 0 (separated), or -1 (undecided)."""
    n = len(pg)
    out = np.full(n, -1, dtype=np.int8)
    for p in range(n):
        a, b = pg[p], pf[p]
        na, nb = count_g[a], count_f[b]
        if na == nb:
            same = True
            for v in range(na):
                if ring_g[a, v, 0] != ring_f[b, v, 0] or ring_g[a, v, 1] != ring_f[b, v, 1]:
                    same = False
                    break
            if same:
                out[p] = whole
                continue
        fwd = sign_g[a] != 0 and _separates(ring_g[a], na, sign_g[a], sup_g[a], ring_f[b], nb, rel)
        if fwd or (
            sign_f[b] != 0 and _separates(ring_f[b], nb, sign_f[b], sup_f[b], ring_g[a], na, rel)
        ):
            out[p] = 0
    return out
