/*
 * The zkguest WebAssembly ABI for a C guest (protocol/SPEC.md §10): the host's `zkguest`
 * imports, the exports the host calls, and frames (§3) on top of them.
 *
 * A controller implements `controller_handle`, which is given each host request and must
 * answer it with exactly one of the zk_reply_* functions. While handling it, it may send its
 * own requests with zk_request_*.
 */
#ifndef ZKGUEST_H
#define ZKGUEST_H

#include "msgpack.h"

/* A frame read from the host. Strings point into the frame's bytes. */
typedef struct {
    uint32_t id;
    mp_bytes kind;
    mp_bytes body; /* the body map, still encoded */
} zk_frame;

/* A response to one of the guest's requests; it points into a buffer that the next request reuses. */
typedef struct {
    bool ok;
    mp_bytes value;   /* ok: the result Value, still encoded */
    mp_bytes code;    /* error: the error code */
    mp_bytes message; /* error: the message */
} zk_response;

/* Implemented by the controller: handle one host request and answer it. */
void controller_handle(const zk_frame *request);

/* Finds `key` in a frame's body and points `value` at its value. */
bool zk_body_field(const zk_frame *frame, const char *key, mp_reader *value);

/* Starts a frame: the caller then writes the body map. */
void zk_frame_begin(mp_writer *w);

/*
 * Sends the guest request whose body `w` holds (after zk_frame_begin) and waits for the
 * response. Returns false when no response could be had (the host refused the frame, or
 * memory ran out); `response` is then unset.
 */
bool zk_request_send(mp_writer *w, const char *kind, zk_response *response);

/* Answers the host request with `ok` whose body `w` holds (after zk_frame_begin). */
void zk_reply_send(mp_writer *w, uint32_t id, const char *kind);
void zk_reply_ok_nil(uint32_t id);
void zk_reply_error(uint32_t id, const char *code, const char *message, size_t message_len);

/* Sends a `log` request. `fields` is an encoded map, or NULL. Returns whether the host said ok. */
bool zk_log(const char *level, const char *message, const mp_writer *fields);

#endif
