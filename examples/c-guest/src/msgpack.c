#include "msgpack.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

void mp_writer_init(mp_writer *w) {
    w->data = NULL;
    w->len = 0;
    w->cap = 0;
    w->failed = false;
}

void mp_writer_free(mp_writer *w) {
    free(w->data);
    mp_writer_init(w);
}

static bool reserve(mp_writer *w, size_t extra) {
    if (w->failed) return false;
    if (w->len + extra <= w->cap) return true;
    size_t cap = w->cap ? w->cap : 64;
    while (cap < w->len + extra) cap *= 2;
    uint8_t *data = realloc(w->data, cap);
    if (data == NULL) {
        w->failed = true;
        return false;
    }
    w->data = data;
    w->cap = cap;
    return true;
}

void mp_write_raw(mp_writer *w, const uint8_t *data, size_t len) {
    if (!reserve(w, len)) return;
    memcpy(w->data + w->len, data, len);
    w->len += len;
}

static void put_byte(mp_writer *w, uint8_t b) {
    mp_write_raw(w, &b, 1);
}

/* A type byte followed by `size` bytes of `value`, big-endian. */
static void put_sized(mp_writer *w, uint8_t type, uint64_t value, int size) {
    uint8_t buf[9];
    buf[0] = type;
    for (int i = 0; i < size; i++) buf[1 + i] = (uint8_t)(value >> (8 * (size - 1 - i)));
    mp_write_raw(w, buf, 1 + (size_t)size);
}

void mp_write_nil(mp_writer *w) { put_byte(w, 0xc0); }

void mp_write_bool(mp_writer *w, bool value) { put_byte(w, value ? 0xc3 : 0xc2); }

void mp_write_uint(mp_writer *w, uint64_t value) {
    if (value < 0x80) put_byte(w, (uint8_t)value);
    else if (value <= 0xff) put_sized(w, 0xcc, value, 1);
    else if (value <= 0xffff) put_sized(w, 0xcd, value, 2);
    else if (value <= 0xffffffffu) put_sized(w, 0xce, value, 4);
    else put_sized(w, 0xcf, value, 8);
}

/* The smallest header for a length: a fix form (if any) or the 8-, 16- or 32-bit form. */
static void put_header(mp_writer *w, size_t len, uint8_t fix, size_t fix_max, uint8_t t8, uint8_t t16, uint8_t t32) {
    if (fix && len <= fix_max) put_byte(w, (uint8_t)(fix | len));
    else if (t8 && len <= 0xff) put_sized(w, t8, len, 1);
    else if (len <= 0xffff) put_sized(w, t16, len, 2);
    else put_sized(w, t32, len, 4);
}

void mp_write_str(mp_writer *w, const char *s, size_t len) {
    put_header(w, len, 0xa0, 31, 0xd9, 0xda, 0xdb);
    mp_write_raw(w, (const uint8_t *)s, len);
}

void mp_write_cstr(mp_writer *w, const char *s) { mp_write_str(w, s, strlen(s)); }

void mp_write_bin(mp_writer *w, const uint8_t *data, size_t len) {
    put_header(w, len, 0, 0, 0xc4, 0xc5, 0xc6);
    mp_write_raw(w, data, len);
}

void mp_write_array(mp_writer *w, uint32_t count) { put_header(w, count, 0x90, 15, 0, 0xdc, 0xdd); }

void mp_write_map(mp_writer *w, uint32_t count) { put_header(w, count, 0x80, 15, 0, 0xde, 0xdf); }

void mp_reader_init(mp_reader *r, const uint8_t *data, size_t len) {
    r->p = data;
    r->end = data + len;
    r->failed = false;
}

static bool fail(mp_reader *r) {
    r->failed = true;
    return false;
}

static bool take(mp_reader *r, size_t n, const uint8_t **out) {
    if (r->failed || (size_t)(r->end - r->p) < n) return fail(r);
    *out = r->p;
    r->p += n;
    return true;
}

static bool read_be(mp_reader *r, int size, uint64_t *out) {
    const uint8_t *b;
    if (!take(r, (size_t)size, &b)) return false;
    uint64_t v = 0;
    for (int i = 0; i < size; i++) v = (v << 8) | b[i];
    *out = v;
    return true;
}

static bool peek(mp_reader *r, uint8_t *type) {
    if (r->failed || r->p >= r->end) return fail(r);
    *type = *r->p;
    return true;
}

bool mp_read_nil(mp_reader *r) {
    uint8_t t;
    if (!peek(r, &t) || t != 0xc0) return fail(r);
    r->p++;
    return true;
}

bool mp_read_bool(mp_reader *r, bool *out) {
    uint8_t t;
    if (!peek(r, &t) || (t != 0xc2 && t != 0xc3)) return fail(r);
    r->p++;
    *out = t == 0xc3;
    return true;
}

bool mp_read_uint(mp_reader *r, uint64_t *out) {
    uint8_t t;
    if (!peek(r, &t)) return false;
    r->p++;
    if (t < 0x80) {
        *out = t;
        return true;
    }
    if (t >= 0xcc && t <= 0xcf) return read_be(r, 1 << (t - 0xcc), out);
    return fail(r);
}

/* Reads a length-prefixed header: a fix form (`fix` with `fix_mask` bits of length) or the
   8-, 16- and 32-bit forms starting at `t8`. */
static bool read_length(mp_reader *r, uint8_t fix, uint8_t fix_mask, uint8_t t8, uint64_t *len) {
    uint8_t t;
    if (!peek(r, &t)) return false;
    r->p++;
    if (fix && (t & (uint8_t)~fix_mask) == fix) {
        *len = t & fix_mask;
        return true;
    }
    if (t8 && t >= t8 && t <= t8 + 2) return read_be(r, 1 << (t - t8), len);
    return fail(r);
}

static bool read_span(mp_reader *r, uint8_t fix, uint8_t fix_mask, uint8_t t8, mp_bytes *out) {
    uint64_t len;
    const uint8_t *data;
    if (!read_length(r, fix, fix_mask, t8, &len) || !take(r, (size_t)len, &data)) return false;
    out->data = data;
    out->len = (uint32_t)len;
    return true;
}

bool mp_read_str(mp_reader *r, mp_bytes *out) { return read_span(r, 0xa0, 0x1f, 0xd9, out); }

bool mp_read_bin(mp_reader *r, mp_bytes *out) { return read_span(r, 0, 0, 0xc4, out); }

static bool read_count(mp_reader *r, uint8_t fix, uint8_t t16, uint32_t *count) {
    uint8_t t;
    uint64_t n;
    if (!peek(r, &t)) return false;
    if ((t & 0xf0) == fix) {
        r->p++;
        *count = t & 0x0f;
        return true;
    }
    if (t != t16 && t != t16 + 1) return fail(r);
    r->p++;
    if (!read_be(r, t == t16 ? 2 : 4, &n)) return false;
    /* Every element takes at least one byte: a larger count is malformed. */
    if (n > (uint64_t)(r->end - r->p)) return fail(r);
    *count = (uint32_t)n;
    return true;
}

bool mp_read_array(mp_reader *r, uint32_t *count) { return read_count(r, 0x90, 0xdc, count); }

bool mp_read_map(mp_reader *r, uint32_t *count) { return read_count(r, 0x80, 0xde, count); }

static bool skip(mp_reader *r, int depth) {
    uint8_t t;
    uint32_t n;
    uint64_t ignored;
    mp_bytes span;
    const uint8_t *data;
    if (depth > MAX_DEPTH || !peek(r, &t)) return fail(r);
    if (t < 0x80 || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) return take(r, 1, &data);
    if ((t & 0xe0) == 0xa0 || (t >= 0xd9 && t <= 0xdb)) return mp_read_str(r, &span);
    if (t >= 0xc4 && t <= 0xc6) return mp_read_bin(r, &span);
    if (t >= 0xcc && t <= 0xcf) return mp_read_uint(r, &ignored);
    if (t >= 0xd0 && t <= 0xd3) return take(r, 1 + ((size_t)1 << (t - 0xd0)), &data); /* int 8..64 */
    if (t == 0xca || t == 0xcb) return take(r, t == 0xca ? 5 : 9, &data);              /* float */
    bool is_map = (t & 0xf0) == 0x80 || t == 0xde || t == 0xdf;
    if (is_map ? !mp_read_map(r, &n) : !mp_read_array(r, &n)) return false;
    for (uint64_t i = 0; i < (uint64_t)n * (is_map ? 2 : 1); i++) {
        if (!skip(r, depth + 1)) return false;
    }
    return true;
}

bool mp_skip(mp_reader *r) { return skip(r, 1); }

/* Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF). */
static bool utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t extra;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xe0) == 0xc0) {
            extra = 1, cp = b & 0x1f, min = 0x80;
        } else if ((b & 0xf0) == 0xe0) {
            extra = 2, cp = b & 0x0f, min = 0x800;
        } else if ((b & 0xf8) == 0xf0) {
            extra = 3, cp = b & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= extra) return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += extra + 1;
    }
    return true;
}

static int compare_spans(const void *a, const void *b) {
    const mp_bytes *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data, y->data, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Whether the keys are distinct: pairwise for small maps, sorted for large ones (a hostile map
   of many keys must not cost n^2 comparisons). */
static bool keys_distinct(mp_bytes *keys, uint32_t n) {
    if (n <= 16) {
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = i + 1; j < n; j++)
                if (compare_spans(&keys[i], &keys[j]) == 0) return false;
        return true;
    }
    qsort(keys, n, sizeof *keys, compare_spans);
    for (uint32_t i = 1; i < n; i++)
        if (compare_spans(&keys[i - 1], &keys[i]) == 0) return false;
    return true;
}

/* One value of the profile; `level` is how many containers enclose it. */
static bool check_value(mp_reader *r, int level);

static bool check_map(mp_reader *r, uint32_t n, int level) {
    mp_bytes small[16];
    mp_bytes *keys = n <= 16 ? small : malloc((size_t)n * sizeof *keys);
    bool ok = keys != NULL;
    for (uint32_t i = 0; ok && i < n; i++) {
        uint8_t t;
        ok = peek(r, &t) && ((t & 0xe0) == 0xa0 || (t >= 0xd9 && t <= 0xdb)) && mp_read_str(r, &keys[i]) &&
             utf8_valid(keys[i].data, keys[i].len) && !mp_bytes_eq(keys[i], "__proto__") && check_value(r, level + 1);
    }
    ok = ok && keys_distinct(keys, n);
    if (keys != small) free(keys);
    return ok || fail(r);
}

static bool check_value(mp_reader *r, int level) {
    uint8_t t;
    uint32_t n;
    uint64_t bits;
    mp_bytes span;
    const uint8_t *data;
    if (!peek(r, &t)) return false;
    if (t < 0x80 || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) return take(r, 1, &data);
    if ((t & 0xe0) == 0xa0 || (t >= 0xd9 && t <= 0xdb)) return mp_read_str(r, &span) && (utf8_valid(span.data, span.len) || fail(r));
    if (t >= 0xc4 && t <= 0xc6) return mp_read_bin(r, &span);
    if (t >= 0xcc && t <= 0xce) return mp_read_uint(r, &bits);
    if (t == 0xcf) return mp_read_uint(r, &bits) && (bits <= 0x1fffffffffffffull || fail(r));
    if (t >= 0xd0 && t <= 0xd2) return take(r, 1 + ((size_t)1 << (t - 0xd0)), &data);
    if (t == 0xd3) { /* int64: two's complement within -(2^53-1) .. 2^53-1 */
        r->p++;
        if (!read_be(r, 8, &bits)) return false;
        int64_t v = (int64_t)bits;
        return (v >= -0x1fffffffffffffll && v <= 0x1fffffffffffffll) || fail(r);
    }
    if (t == 0xca || t == 0xcb) { /* a float: finite (the exponent is not all ones) */
        r->p++;
        if (!read_be(r, t == 0xca ? 4 : 8, &bits)) return false;
        bool finite = t == 0xca ? (bits & 0x7f800000u) != 0x7f800000u : (bits & 0x7ff0000000000000ull) != 0x7ff0000000000000ull;
        return finite || fail(r);
    }
    bool is_map = (t & 0xf0) == 0x80 || t == 0xde || t == 0xdf;
    bool is_array = (t & 0xf0) == 0x90 || t == 0xdc || t == 0xdd;
    if (!is_map && !is_array) return fail(r); /* 0xc1 and the ext types */
    if (level + 1 > MAX_DEPTH) return fail(r);
    if (is_map) return mp_read_map(r, &n) && ((uint64_t)n * 2 <= (uint64_t)(r->end - r->p) || fail(r)) && check_map(r, n, level);
    if (!mp_read_array(r, &n)) return false;
    for (uint32_t i = 0; i < n; i++)
        if (!check_value(r, level + 1)) return false;
    return true;
}

bool mp_check_profile(const uint8_t *data, size_t len) {
    mp_reader r;
    mp_reader_init(&r, data, len);
    return check_value(&r, 0) && r.p == r.end;
}

bool mp_bytes_eq(mp_bytes s, const char *text) {
    size_t len = strlen(text);
    return s.len == len && memcmp(s.data, text, len) == 0;
}

bool mp_skip_any(mp_reader *r) {
    uint64_t pending = 1;
    while (pending > 0) {
        uint8_t t;
        uint64_t n = 0, bytes = 0, items = 0;
        const uint8_t *data;
        if (!peek(r, &t)) return false;
        r->p++;
        pending--;
        if ((t & 0xf0) == 0x80) items = 2u * (t & 0x0f);
        else if ((t & 0xf0) == 0x90) items = t & 0x0f;
        else if ((t & 0xe0) == 0xa0) bytes = t & 0x1f;
        else if (t == 0xc1) return fail(r);
        else if (t >= 0xc4 && t <= 0xc6) { if (!read_be(r, 1 << (t - 0xc4), &bytes)) return false; }
        else if (t >= 0xc7 && t <= 0xc9) { if (!read_be(r, 1 << (t - 0xc7), &bytes)) return false; bytes++; } /* ext: then its type */
        else if (t >= 0xca && t <= 0xd3) { static const uint8_t size[] = {4, 8, 1, 2, 4, 8, 1, 2, 4, 8}; bytes = size[t - 0xca]; }
        else if (t >= 0xd4 && t <= 0xd8) bytes = 1 + (1u << (t - 0xd4));
        else if (t >= 0xd9 && t <= 0xdb) { if (!read_be(r, 1 << (t - 0xd9), &bytes)) return false; }
        else if (t == 0xdc || t == 0xdd) { if (!read_be(r, t == 0xdc ? 2 : 4, &n)) return false; items = n; }
        else if (t == 0xde || t == 0xdf) { if (!read_be(r, t == 0xde ? 2 : 4, &n)) return false; items = 2 * n; }
        /* Every value takes a byte at least: a count larger than the bytes left is a lie. */
        if (items > (uint64_t)(r->end - r->p)) return fail(r);
        pending += items;
        if (!take(r, (size_t)bytes, &data)) return false;
    }
    return true;
}

bool mp_read_id(mp_reader *r, uint32_t *out) {
    uint8_t t;
    uint64_t bits;
    double value;
    if (!peek(r, &t)) return false;
    if (t < 0x80 || (t >= 0xcc && t <= 0xcf)) {
        if (!mp_read_uint(r, &bits)) return false;
        value = (double)bits;
    } else if (t >= 0xd0 && t <= 0xd3) { /* a signed form holding a non-negative value */
        int size = 1 << (t - 0xd0);
        r->p++;
        if (!read_be(r, size, &bits)) return false;
        int64_t v = size == 8 ? (int64_t)bits : (int64_t)(bits << (64 - 8 * size)) >> (64 - 8 * size);
        value = (double)v;
    } else if (t == 0xca || t == 0xcb) {
        r->p++;
        if (!read_be(r, t == 0xca ? 4 : 8, &bits)) return false;
        if (t == 0xca) {
            uint32_t b32 = (uint32_t)bits;
            float f;
            memcpy(&f, &b32, 4);
            value = f;
        } else {
            memcpy(&value, &bits, 8);
        }
    } else {
        return fail(r);
    }
    if (!(value >= 0 && value <= 4294967295.0) || value != (double)(uint32_t)value) return fail(r);
    *out = (uint32_t)value;
    return true;
}
