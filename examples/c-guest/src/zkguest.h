/*
 * The zkguest WebAssembly ABI for a C guest (protocol/SPEC.md §10): the host's `zkguest`
 * imports, the exports the host calls, and frames (§3) on top of them.
 *
 * A controller implements `controller_handle`, which is given each host request and must
 * answer it with exactly one of the zk_reply_* functions. While handling it, it may send its
 * own requests with zk_request_*.
 *
 * Before the controller sees a request, this layer refuses what SPEC.md §3.3 refuses: a frame
 * over max_frame_bytes, one outside the MessagePack profile or without a valid envelope
 * (malformed_frame), a major version other than 1 (unsupported_version), a kind that is not a
 * host request (unknown_kind, or invalid_state for a kind the guest itself sends). It adopts the
 * max_frame_bytes of a hello the controller answered ok; after a hello it answered with an
 * error, the conversation is over and every later request gets invalid_state (§8).
 */
#ifndef ZKGUEST_H
#define ZKGUEST_H

#include "msgpack.h"

/* A frame read from the host. Strings point into the frame's bytes. */
typedef struct {
    uint32_t id;
    bool float_id; /* the id was written as a float: refused once the kind is known (SPEC.md 3.3) */
    uint64_t v_major, v_minor;
    mp_bytes kind;
    mp_bytes body; /* the body map, still encoded */
    mp_bytes bytes; /* the whole frame */
} zk_frame;

/* A response to one of the guest's requests; it points into a buffer that the next request reuses. */
typedef struct {
    bool ok;
    mp_bytes value;   /* ok: the result Value, still encoded */
    mp_bytes code;    /* error: the error code; one this version does not define reads as "internal" (SPEC.md §8) */
    mp_bytes message; /* error: the message; for an unknown code, "[code] message" */
    mp_bytes frame;   /* the whole response frame */
} zk_response;

/* The highest minor of major 1 this layer speaks (SPEC.md §8). */
#define ZK_VERSION_MINOR 1

/*
 * Chooses the conversation's minor from the host's offered one (the smaller of the two, §8) and
 * returns it; every frame written after carries it. A controller calls it while answering hello.
 */
uint64_t zk_choose_minor(uint64_t offered);

/* zk_call's status when a response came but is not an ok or error answering the request. */
#define ZK_UNREADABLE_RESPONSE (-100)

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

/* zk_request_send, giving zk_call's status instead of a bool. */
int32_t zk_request(mp_writer *w, const char *kind, zk_response *response);

/* The id for the next request the guest sends (SPEC.md §2: 1, 2, 3, ..., wrapping to 1). */
uint32_t zk_next_request_id(void);

/*
 * Sends a request frame the caller encoded whole (any version, kind or extra keys; it carries
 * `id`, from zk_next_request_id) and reads the response. Returns the response's length (> 0)
 * with `response` set, a negative status of the ABI's `call` (SPEC.md §10.1: -3 the frame is
 * over max_frame_bytes and the host did not read it), or ZK_UNREADABLE_RESPONSE.
 */
int32_t zk_call(const uint8_t *frame, size_t len, uint32_t id, zk_response *response);

/* The host's max_frame_bytes: the default until hello is answered ok, then the announced one. */
uint64_t zk_max_frame_bytes(void);

/* Answers the host request with `ok` whose body `w` holds (after zk_frame_begin). */
void zk_reply_send(mp_writer *w, uint32_t id, const char *kind);
void zk_reply_ok_nil(uint32_t id);
void zk_reply_error(uint32_t id, const char *code, const char *message, size_t message_len);

/* Writes a whole `log` request frame into `w`; zk_request or zk_request_send then sends it as "log". */
void zk_log_begin(mp_writer *w, const char *level, const char *message, size_t message_len, const mp_writer *fields);

/* Sends a `log` request. `fields` is an encoded map, or NULL. Returns whether the host said ok. */
bool zk_log(const char *level, const char *message, const mp_writer *fields);

#endif
