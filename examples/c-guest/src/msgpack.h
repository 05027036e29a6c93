/*
 * A tiny MessagePack writer and reader: just what the zkguest protocol needs (SPEC.md §3).
 *
 * The writer produces the protocol's canonical forms (smallest headers and integers); writing
 * map keys in ascending byte order is the caller's job. The reader never reads past its end:
 * every function returns false on malformed or unexpected input and leaves the reader failed.
 */
#ifndef ZKGUEST_MSGPACK_H
#define ZKGUEST_MSGPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed: the content is incomplete */
} mp_writer;

void mp_writer_init(mp_writer *w);
void mp_writer_free(mp_writer *w);
void mp_write_nil(mp_writer *w);
void mp_write_bool(mp_writer *w, bool value);
void mp_write_uint(mp_writer *w, uint64_t value);
void mp_write_str(mp_writer *w, const char *s, size_t len);
void mp_write_cstr(mp_writer *w, const char *s);
void mp_write_bin(mp_writer *w, const uint8_t *data, size_t len);
void mp_write_array(mp_writer *w, uint32_t count);
void mp_write_map(mp_writer *w, uint32_t count);
/* Bytes that already are MessagePack (a value copied from a received frame). */
void mp_write_raw(mp_writer *w, const uint8_t *data, size_t len);

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
    bool failed;
} mp_reader;

/* A string or byte string inside the frame being read: not NUL-terminated. */
typedef struct {
    const uint8_t *data;
    uint32_t len;
} mp_bytes;

void mp_reader_init(mp_reader *r, const uint8_t *data, size_t len);
bool mp_read_nil(mp_reader *r);
bool mp_read_bool(mp_reader *r, bool *out);
bool mp_read_uint(mp_reader *r, uint64_t *out);
bool mp_read_str(mp_reader *r, mp_bytes *out);
bool mp_read_bin(mp_reader *r, mp_bytes *out);
bool mp_read_array(mp_reader *r, uint32_t *count);
bool mp_read_map(mp_reader *r, uint32_t *count);
/* Skips one value, nested containers included (at most 32 deep, as the protocol allows). */
bool mp_skip(mp_reader *r);
/*
 * Whether `data` is one frame under the protocol's MessagePack profile (SPEC.md §3.3): exactly
 * one value and nothing after it; no 0xc1 and no ext types; lengths and counts within the bytes
 * that remain; containers at most 32 deep; map keys strings, each once, never "__proto__";
 * strings valid UTF-8; integers within -(2^53-1) .. 2^53-1; floats finite. Where floats may
 * appear, and the envelope and bodies, are the reader's to check.
 */
bool mp_check_profile(const uint8_t *data, size_t len);
/*
 * Skips one value by its structure alone, ext types included, at any depth and without checking
 * its content (no recursion: one counter of values still to skip). How a refused frame's id is
 * still found (SPEC.md §3.4). False when the bytes end first or hold 0xc1.
 */
bool mp_skip_any(mp_reader *r);
/* Reads a request id (SPEC.md §3.4): an integer 0 .. 2^32-1 in any integer form, or a float with such an integral value. */
bool mp_read_id(mp_reader *r, uint32_t *out);
/* Whether `s` holds exactly the NUL-terminated text `text`. */
bool mp_bytes_eq(mp_bytes s, const char *text);

#endif
