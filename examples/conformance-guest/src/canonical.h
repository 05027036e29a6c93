/*
 * Whether a frame the host sent is canonical (SPEC.md §3.2): integers, strings, bytes, arrays
 * and maps in their smallest form, map keys in ascending bytewise order, floats only as float64
 * and only for numbers that are not integers within ±(2^53-1), no ext. A host may read
 * non-canonical frames, but must write canonical ones; the reference guest checks every frame
 * it receives and reports the first that is not.
 */
#ifndef CONFORMANCE_CANONICAL_H
#define CONFORMANCE_CANONICAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether `data` is canonical; if not, `why` (of `cap` bytes) says where and what. */
bool canonical_frame(const uint8_t *data, size_t len, char *why, size_t cap);

#endif
