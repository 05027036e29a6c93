#include "zkguest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The host's functions (SPEC.md §10.1). */
__attribute__((import_module("zkguest"), import_name("call"))) int32_t zkguest_call(const uint8_t *ptr, int32_t len);
__attribute__((import_module("zkguest"), import_name("take"))) int32_t zkguest_take(uint8_t *ptr, int32_t cap);
__attribute__((import_module("zkguest"), import_name("reply"))) int32_t zkguest_reply(const uint8_t *ptr, int32_t len);

/* The one major this guest speaks; its highest minor is ZK_VERSION_MINOR. */
#define VERSION_MAJOR 1
/* The minor chosen in hello, which every frame then carries (SPEC.md §8). */
static uint64_t chosen_minor = ZK_VERSION_MINOR;

static uint8_t *request_buffer;   /* where the host places its requests */
static uint8_t *response_buffer;  /* where the guest takes the responses to its own requests */
static size_t response_capacity;
static uint32_t next_request_id = 1;

/* SPEC.md §6: the default until a hello is answered ok. */
#define DEFAULT_MAX_FRAME_BYTES 4194304u
static uint64_t max_frame_bytes = DEFAULT_MAX_FRAME_BYTES;
/* The hello was answered with an error (no common version): nothing else is done (§8). */
static bool refused;
/* A hello was answered ok: another one is invalid_state (§2). */
static bool greeted;
/* The kind of the last reply sent ("ok" or "error"), to see how the controller answered hello. */
static bool last_reply_ok;

uint64_t zk_max_frame_bytes(void) { return max_frame_bytes; }

/* Grows `*buffer` to at least `len` bytes; returns it, or NULL if memory ran out. */
static uint8_t *grow(uint8_t **buffer, size_t *capacity, size_t len) {
    if (len <= *capacity && *buffer != NULL) return *buffer;
    uint8_t *bigger = realloc(*buffer, len ? len : 1);
    if (bigger == NULL) return NULL;
    *buffer = bigger;
    *capacity = len;
    return bigger;
}

__attribute__((export_name("zkguest_alloc"))) uint8_t *zkguest_alloc(int32_t len) {
    static size_t capacity;
    return len < 0 ? NULL : grow(&request_buffer, &capacity, (size_t)len);
}

/*
 * The id of a frame, when it can be read (SPEC.md §3.4): one complete MessagePack value, a map
 * with exactly one key "id" holding an integer 0 .. 2^32-1 (or a float with such a value),
 * whatever faults lie elsewhere inside it (a duplicate key, an ext, invalid UTF-8, depth).
 */
static bool readable_id(const uint8_t *data, size_t len, uint32_t *out) {
    mp_reader r;
    uint32_t keys, ids = 0, found = 0;
    uint32_t *id = &found; /* `out` is written only when the id can be read */
    bool valid = false;
    mp_reader_init(&r, data, len);
    if (!mp_read_map(&r, &keys)) return false;
    for (uint32_t i = 0; i < keys; i++) {
        mp_reader key = r;
        mp_bytes name;
        bool is_id = mp_read_str(&key, &name) && mp_bytes_eq(name, "id");
        if (!mp_skip_any(&r)) return false;
        if (is_id) {
            mp_reader value = r;
            ids++;
            valid = mp_read_id(&value, id);
        }
        if (!mp_skip_any(&r)) return false;
    }
    if (r.p != r.end || ids != 1 || !valid) return false;
    *out = found;
    return true;
}

/* How reading an envelope went: whole, broken after its id was read, or broken before. */
typedef enum { ENVELOPE_OK, ENVELOPE_BAD_WITH_ID, ENVELOPE_BAD } envelope;

/* Reads the envelope (§3.1): keys may come in any order; unknown keys are ignored. */
static envelope parse_frame(const uint8_t *data, size_t len, zk_frame *frame) {
    mp_reader r;
    uint32_t keys;
    bool has_kind = false, has_body = false, has_v = false;
    mp_reader_init(&r, data, len);
    if (!mp_read_map(&r, &keys)) return ENVELOPE_BAD;
    if (!readable_id(data, len, &frame->id)) return ENVELOPE_BAD;
    frame->float_id = false;
    frame->bytes = (mp_bytes){data, (uint32_t)len};
    mp_reader_init(&r, data, len);
    mp_read_map(&r, &keys);
    for (uint32_t i = 0; i < keys; i++) {
        mp_bytes key;
        uint32_t pair;
        if (!mp_read_str(&r, &key)) return ENVELOPE_BAD_WITH_ID;
        if (mp_bytes_eq(key, "kind")) {
            has_kind = mp_read_str(&r, &frame->kind);
        } else if (mp_bytes_eq(key, "body")) {
            uint32_t entries;
            mp_reader map = r;
            has_body = mp_read_map(&map, &entries); /* the body is a map */
            frame->body.data = r.p;
            has_body = has_body && mp_skip(&r);
            frame->body.len = (uint32_t)(r.p - frame->body.data);
        } else if (mp_bytes_eq(key, "v")) {
            has_v = mp_read_array(&r, &pair) && pair == 2 && mp_read_uint(&r, &frame->v_major) && frame->v_major <= 0xffff &&
                    mp_read_uint(&r, &frame->v_minor) && frame->v_minor <= 0xffff;
        } else if (mp_bytes_eq(key, "id") && (*r.p == 0xca || *r.p == 0xcb)) {
            frame->float_id = true; /* read above; refused after the kind is known (SPEC.md 3.3) */
            if (!mp_skip(&r)) return ENVELOPE_BAD_WITH_ID;
        } else if (!mp_skip(&r)) { /* "id", read above, and any key a later minor version adds */
            return ENVELOPE_BAD_WITH_ID;
        }
        if (r.failed) return ENVELOPE_BAD_WITH_ID;
    }
    return has_kind && has_body && has_v && r.p == r.end ? ENVELOPE_OK : ENVELOPE_BAD_WITH_ID;
}

bool zk_body_field(const zk_frame *frame, const char *key, mp_reader *value) {
    uint32_t entries;
    mp_reader_init(value, frame->body.data, frame->body.len);
    if (!mp_read_map(value, &entries)) return false;
    for (uint32_t i = 0; i < entries; i++) {
        mp_bytes name;
        if (!mp_read_str(value, &name)) return false;
        if (mp_bytes_eq(name, key)) return true;
        if (!mp_skip(value)) return false;
    }
    return false;
}

/* The envelope's keys in canonical order are body, id, kind, v: the body comes first. */
void zk_frame_begin(mp_writer *w) {
    mp_writer_init(w);
    mp_write_map(w, 4);
    mp_write_cstr(w, "body");
}

static void frame_end(mp_writer *w, uint32_t id, const char *kind) {
    mp_write_cstr(w, "id");
    mp_write_uint(w, id);
    mp_write_cstr(w, "kind");
    mp_write_cstr(w, kind);
    mp_write_cstr(w, "v");
    mp_write_array(w, 2);
    mp_write_uint(w, VERSION_MAJOR);
    mp_write_uint(w, chosen_minor);
}

uint64_t zk_choose_minor(uint64_t offered) {
    chosen_minor = offered < ZK_VERSION_MINOR ? offered : ZK_VERSION_MINOR;
    return chosen_minor;
}

/* The error codes of version 1.1 (SPEC.md §7). */
static const char *const ERROR_CODES[] = {
    "invalid_path",   "invalid_name",    "not_found",           "already_exists", "not_a_directory",
    "is_a_directory", "directory_not_empty", "directory_full",  "no_space",       "quota_exceeded",
    "corrupt_volume", "frame_too_large", "malformed_frame",     "unknown_kind",   "unsupported_version",
    "limit_exceeded", "invalid_state",   "guest_error",         "internal",
};

/* An unknown code reads as internal, the code kept in the message (§8): "[code] message". */
static void read_unknown_code(zk_response *response) {
    static char message[512];
    for (size_t i = 0; i < sizeof ERROR_CODES / sizeof *ERROR_CODES; i++)
        if (mp_bytes_eq(response->code, ERROR_CODES[i])) return;
    int len = snprintf(message, sizeof message, "[%.*s] %.*s", (int)response->code.len, (const char *)response->code.data,
                       (int)response->message.len, (const char *)response->message.data);
    response->code = (mp_bytes){(const uint8_t *)"internal", 8};
    response->message = (mp_bytes){(const uint8_t *)message, (uint32_t)((size_t)len < sizeof message ? (size_t)len : sizeof message - 1)};
}

/* Reads an `ok` or `error` response answering request `id`, under the profile of §3.3. */
static bool parse_response(const uint8_t *data, size_t len, uint32_t id, zk_response *response) {
    zk_frame frame;
    mp_reader field;
    if (len > max_frame_bytes || !mp_check_profile(data, len) || parse_frame(data, len, &frame) != ENVELOPE_OK || frame.id != id ||
        frame.v_major != VERSION_MAJOR)
        return false;
    response->frame = (mp_bytes){data, (uint32_t)len};
    response->ok = mp_bytes_eq(frame.kind, "ok");
    if (response->ok) {
        if (!zk_body_field(&frame, "value", &field)) return false;
        response->value.data = field.p;
        if (!mp_skip(&field)) return false;
        response->value.len = (uint32_t)(field.p - response->value.data);
        return true;
    }
    if (!(mp_bytes_eq(frame.kind, "error") && zk_body_field(&frame, "code", &field) && mp_read_str(&field, &response->code) &&
          zk_body_field(&frame, "message", &field) && mp_read_str(&field, &response->message)))
        return false;
    read_unknown_code(response);
    return true;
}

uint32_t zk_next_request_id(void) {
    uint32_t id = next_request_id;
    next_request_id = next_request_id == UINT32_MAX ? 1 : next_request_id + 1; /* §2: wraps to 1 */
    return id;
}

int32_t zk_call(const uint8_t *frame, size_t len, uint32_t id, zk_response *response) {
    int32_t got = zkguest_call(frame, (int32_t)len);
    if (got <= 0) return got;
    /* The response stays pending until taken; the buffer is grown to its length first. */
    if (grow(&response_buffer, &response_capacity, (size_t)got) == NULL) return ZK_UNREADABLE_RESPONSE;
    int32_t taken = zkguest_take(response_buffer, (int32_t)response_capacity);
    if (taken != got) return taken < 0 ? taken : ZK_UNREADABLE_RESPONSE;
    return parse_response(response_buffer, (size_t)got, id, response) ? got : ZK_UNREADABLE_RESPONSE;
}

int32_t zk_request(mp_writer *w, const char *kind, zk_response *response) {
    uint32_t id = zk_next_request_id();
    frame_end(w, id, kind);
    int32_t status = w->failed ? ZK_UNREADABLE_RESPONSE : zk_call(w->data, w->len, id, response);
    mp_writer_free(w);
    return status;
}

bool zk_request_send(mp_writer *w, const char *kind, zk_response *response) { return zk_request(w, kind, response) > 0; }

void zk_reply_send(mp_writer *w, uint32_t id, const char *kind) {
    frame_end(w, id, kind);
    last_reply_ok = strcmp(kind, "ok") == 0;
    if (!w->failed) zkguest_reply(w->data, (int32_t)w->len);
    mp_writer_free(w);
}

void zk_reply_ok_nil(uint32_t id) {
    mp_writer w;
    zk_frame_begin(&w);
    mp_write_map(&w, 1);
    mp_write_cstr(&w, "value");
    mp_write_nil(&w);
    zk_reply_send(&w, id, "ok");
}

void zk_reply_error(uint32_t id, const char *code, const char *message, size_t message_len) {
    mp_writer w;
    zk_frame_begin(&w);
    mp_write_map(&w, 2);
    mp_write_cstr(&w, "code");
    mp_write_cstr(&w, code);
    mp_write_cstr(&w, "message");
    mp_write_str(&w, message, message_len);
    zk_reply_send(&w, id, "error");
}

void zk_log_begin(mp_writer *w, const char *level, const char *message, size_t message_len, const mp_writer *fields) {
    zk_frame_begin(w);
    mp_write_map(w, fields ? 3 : 2);
    if (fields) {
        mp_write_cstr(w, "fields");
        mp_write_raw(w, fields->data, fields->len);
    }
    mp_write_cstr(w, "level");
    mp_write_cstr(w, level);
    mp_write_cstr(w, "message");
    mp_write_str(w, message, message_len);
}

bool zk_log(const char *level, const char *message, const mp_writer *fields) {
    mp_writer w;
    zk_response response;
    zk_log_begin(&w, level, message, strlen(message), fields);
    return zk_request_send(&w, "log", &response) && response.ok;
}

/* Reads max_frame_bytes out of a hello's limits, if it is there. */
static bool hello_max_frame_bytes(const zk_frame *hello, uint64_t *out) {
    mp_reader limits;
    uint32_t entries;
    if (!zk_body_field(hello, "limits", &limits) || !mp_read_map(&limits, &entries)) return false;
    for (uint32_t i = 0; i < entries; i++) {
        mp_bytes key;
        if (!mp_read_str(&limits, &key)) return false;
        if (mp_bytes_eq(key, "max_frame_bytes")) return mp_read_uint(&limits, out);
        if (!mp_skip(&limits)) return false;
    }
    return false;
}

static bool kind_is(mp_bytes kind, const char *const *kinds, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (mp_bytes_eq(kind, kinds[i])) return true;
    return false;
}

static void reply_error_text(uint32_t id, const char *code, const char *message) { zk_reply_error(id, code, message, strlen(message)); }

static bool is_float(const mp_reader *r) { return r->p < r->end && (*r->p == 0xca || *r->p == 0xcb); }

/* A float where hello has an integer (SPEC.md 3.3): in the offer, or a limit this version defines (a later minor's limit may be anything). */
static bool hello_has_float(const zk_frame *hello) {
    static const char *const limits[] = {"max_frame_bytes", "max_path_bytes", "max_log_message_bytes", "max_log_bytes", "max_host_calls",
                                         "quota_bytes",     "quota_files",    "memory_bytes",          "stack_bytes",   "time_ms"};
    mp_reader r;
    uint32_t n, pair;
    if (zk_body_field(hello, "offer", &r) && mp_read_array(&r, &n)) {
        for (uint32_t i = 0; i < n && mp_read_array(&r, &pair); i++)
            for (uint32_t k = 0; k < pair; k++)
                if (is_float(&r) || !mp_skip(&r)) return is_float(&r);
    }
    if (zk_body_field(hello, "limits", &r) && mp_read_map(&r, &n)) {
        for (uint32_t i = 0; i < n; i++) {
            mp_bytes key;
            if (!mp_read_str(&r, &key)) return false;
            for (size_t k = 0; k < sizeof limits / sizeof *limits; k++)
                if (mp_bytes_eq(key, limits[k]) && is_float(&r)) return true;
            if (!mp_skip(&r)) return false;
        }
    }
    return false;
}

/* proof.result's proof is present if and only if success is true, its error if and only if it is false (SPEC.md 5.1). */
static bool proof_result_consistent(const zk_frame *request) {
    mp_reader r;
    bool success = false;
    if (!zk_body_field(request, "success", &r) || !mp_read_bool(&r, &success)) return false;
    return zk_body_field(request, "proof", &r) == success && zk_body_field(request, "error", &r) == !success;
}

/* The checks of §3.3 and §8 before a request reaches the controller; false when it was answered here. */
static bool admit(const uint8_t *ptr, int32_t len, zk_frame *request) {
    static const char *const host_kinds[] = {"hello", "witness.get", "proof.result"};
    static const char *const other_kinds[] = {"witness.ready", "fs.store", "fs.read", "fs.list", "fs.stat",
                                              "fs.remove",     "fs.mkdir", "log",     "ok",      "error"};
    char message[160];
    /* Without a readable id, there is no request to answer: the error goes to id 0. */
    if (len < 0 || (uint64_t)len > max_frame_bytes) {
        snprintf(message, sizeof message, "the request is %ld bytes, max_frame_bytes is %llu", (long)len, (unsigned long long)max_frame_bytes);
        reply_error_text(0, "frame_too_large", message);
        return false;
    }
    if (!mp_check_profile(ptr, (size_t)len)) {
        uint32_t id = 0; /* no readable id: the error answers id 0, which no request has (SPEC.md 3.4) */
        readable_id(ptr, (size_t)len, &id);
        reply_error_text(id, "malformed_frame", "the request is not one MessagePack value of the protocol's profile (SPEC.md 3.3)");
        return false;
    }
    envelope e = parse_frame(ptr, (size_t)len, request);
    if (e != ENVELOPE_OK) {
        reply_error_text(e == ENVELOPE_BAD ? 0 : request->id, "malformed_frame", "the request's envelope needs v [major, minor], id, kind and a body map");
        return false;
    }
    if (request->v_major != VERSION_MAJOR) {
        snprintf(message, sizeof message, "frame is version %llu.%llu, this peer speaks %d.%d", (unsigned long long)request->v_major,
                 (unsigned long long)request->v_minor, VERSION_MAJOR, ZK_VERSION_MINOR);
        reply_error_text(request->id, "unsupported_version", message);
        /* A hello written in a version this guest cannot speak: the handshake found nothing in common. */
        if (mp_bytes_eq(request->kind, "hello")) refused = true;
        return false;
    }
    if (!kind_is(request->kind, host_kinds, 3)) {
        bool known = kind_is(request->kind, other_kinds, sizeof other_kinds / sizeof *other_kinds);
        snprintf(message, sizeof message, known ? "%.*s is not a request a host sends to a guest" : "unknown message kind '%.*s'",
                 (int)request->kind.len, (const char *)request->kind.data);
        reply_error_text(request->id, known ? "invalid_state" : "unknown_kind", message);
        return false;
    }
    if (mp_bytes_eq(request->kind, "proof.result") && !proof_result_consistent(request)) {
        reply_error_text(request->id, "malformed_frame", "proof.result body: proof must be present if and only if success is true, error if and only if it is false");
        return false;
    }
    if (request->float_id || (mp_bytes_eq(request->kind, "hello") && hello_has_float(request))) {
        reply_error_text(request->id, "malformed_frame", "a float where an integer is required");
        return false;
    }
    if (greeted && mp_bytes_eq(request->kind, "hello")) {
        reply_error_text(request->id, "invalid_state", "hello was already answered");
        return false;
    }
    if (refused) {
        reply_error_text(request->id, "invalid_state", "the handshake found no common version: this guest does nothing else");
        return false;
    }
    return true;
}

__attribute__((export_name("zkguest_handle"))) int32_t zkguest_handle(const uint8_t *ptr, int32_t len) {
    zk_frame request;
    if (!admit(ptr, len, &request)) return 0;
    bool hello = mp_bytes_eq(request.kind, "hello");
    uint64_t announced = 0;
    bool has_limit = hello && hello_max_frame_bytes(&request, &announced);
    controller_handle(&request);
    if (hello && last_reply_ok && has_limit) max_frame_bytes = announced;
    if (hello && last_reply_ok) greeted = true;
    if (hello && !last_reply_ok) refused = true;
    return 0;
}
