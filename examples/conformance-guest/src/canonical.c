#include "canonical.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const uint8_t *start, *p, *end;
    char *why;
    size_t cap;
    bool failed;
} walker;

static bool wrong(walker *w, const char *what) {
    if (!w->failed) snprintf(w->why, w->cap, "byte %ld: %s", (long)(w->p - w->start), what);
    w->failed = true;
    return false;
}

/* A big-endian unsigned integer of `n` bytes at p + 1, or false when the bytes end first. */
static bool be(walker *w, int n, uint64_t *out) {
    if (w->end - w->p < 1 + n) return wrong(w, "the frame ends inside a value");
    uint64_t v = 0;
    for (int i = 1; i <= n; i++) v = (v << 8) | w->p[i];
    *out = v;
    return true;
}

/* The smallest width (0 = fits the fix form) a length or count needs, for forms fix/8/16/32. */
static int smallest(uint64_t n, uint64_t fix_limit, bool has8) {
    if (n < fix_limit) return 0;
    if (has8 && n < 0x100) return 1;
    return n < 0x10000 ? 2 : 4;
}

static bool value(walker *w, int depth);

/* A container or string header of width `width` (0: fix) holding `n`; checks it is the smallest. */
static bool sized(walker *w, uint64_t n, int width, uint64_t fix_limit, bool has8, const char *what) {
    char text[96];
    if (smallest(n, fix_limit, has8) != width) {
        snprintf(text, sizeof text, "a %s of %llu written with a %d-byte length (not the smallest form)", what, (unsigned long long)n, width);
        return wrong(w, text);
    }
    return true;
}

static int compare(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static bool value(walker *w, int depth) {
    if (depth > 40) return wrong(w, "nested too deep to check");
    if (w->p >= w->end) return wrong(w, "the frame ends where a value should be");
    uint8_t t = *w->p;
    uint64_t n = 0;
    int width = 0;
    if (t < 0x80 || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) { w->p++; return true; }
    if (t >= 0xcc && t <= 0xcf) { /* uint: must not fit a smaller form */
        width = 1 << (t - 0xcc);
        if (!be(w, width, &n)) return false;
        uint64_t below = width == 1 ? 0x80 : width == 2 ? 0x100 : width == 4 ? 0x10000 : 0x100000000ull;
        if (n < below) return wrong(w, "an integer in a larger encoding than it needs");
        w->p += 1 + width;
        return true;
    }
    if (t >= 0xd0 && t <= 0xd3) { /* int: negative, and not fitting a smaller form */
        width = 1 << (t - 0xd0);
        if (!be(w, width, &n)) return false;
        int64_t v = width == 8 ? (int64_t)n : (int64_t)(n << (64 - 8 * width)) >> (64 - 8 * width);
        int64_t floor = width == 1 ? -32 : width == 2 ? -128 : width == 4 ? -32768 : -2147483648ll;
        if (v >= floor) return wrong(w, "an integer in a larger encoding than it needs");
        w->p += 1 + width;
        return true;
    }
    if (t == 0xca) return wrong(w, "a float32 (a sender writes float64)");
    if (t == 0xcb) {
        if (!be(w, 8, &n)) return false;
        double d;
        memcpy(&d, &n, 8);
        if (d == (double)(int64_t)d && d >= -9007199254740991.0 && d <= 9007199254740991.0) return wrong(w, "an integral number written as a float");
        w->p += 9;
        return true;
    }
    bool str = (t & 0xe0) == 0xa0 || (t >= 0xd9 && t <= 0xdb), bin = t >= 0xc4 && t <= 0xc6;
    if (str || bin) {
        width = (t & 0xe0) == 0xa0 ? 0 : 1 << (str ? t - 0xd9 : t - 0xc4);
        if (width == 0) n = t & 0x1f;
        else if (!be(w, width, &n)) return false;
        if (!sized(w, n, width, str ? 32 : 0, true, str ? "str" : "bin")) return false;
        if ((uint64_t)(w->end - w->p) < 1 + (uint64_t)width + n) return wrong(w, "the frame ends inside a string");
        w->p += 1 + width + n;
        return true;
    }
    bool map = (t & 0xf0) == 0x80 || t == 0xde || t == 0xdf, array = (t & 0xf0) == 0x90 || t == 0xdc || t == 0xdd;
    if (!map && !array) return wrong(w, "an ext type or 0xc1");
    width = (t & 0xe0) == 0x80 ? 0 : (t == 0xdc || t == 0xde) ? 2 : 4;
    if (width == 0) n = t & 0x0f;
    else if (!be(w, width, &n)) return false;
    if (!sized(w, n, width, 16, false, map ? "map" : "array")) return false;
    w->p += 1 + width;
    const uint8_t *previous = NULL;
    size_t previous_len = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (map) {
            const uint8_t *key = w->p;
            if (key >= w->end || !((*key & 0xe0) == 0xa0 || (*key >= 0xd9 && *key <= 0xdb))) return wrong(w, "a map key that is not a str");
            if (!value(w, depth + 1)) return false;
            size_t head = (*key & 0xe0) == 0xa0 ? 1 : 1 + (1u << (*key - 0xd9));
            const uint8_t *text = key + head;
            size_t len = (size_t)(w->p - text);
            if (previous && compare(previous, previous_len, text, len) >= 0) return wrong(w, "map keys not in ascending bytewise order");
            previous = text;
            previous_len = len;
        }
        if (!value(w, depth + 1)) return false;
    }
    return true;
}

bool canonical_frame(const uint8_t *data, size_t len, char *why, size_t cap) {
    walker w = {data, data, data + len, why, cap, false};
    if (!value(&w, 0)) return false;
    return w.p == w.end || wrong(&w, "bytes after the frame");
}
