#include "zkguest.h"

#include <stdlib.h>
#include <string.h>

/* The host's functions (SPEC.md §10.1). */
__attribute__((import_module("zkguest"), import_name("call"))) int32_t zkguest_call(const uint8_t *ptr, int32_t len);
__attribute__((import_module("zkguest"), import_name("take"))) int32_t zkguest_take(uint8_t *ptr, int32_t cap);
__attribute__((import_module("zkguest"), import_name("reply"))) int32_t zkguest_reply(const uint8_t *ptr, int32_t len);

/* The one protocol version this guest speaks. */
#define VERSION_MAJOR 1
#define VERSION_MINOR 0

static uint8_t *request_buffer;   /* where the host places its requests */
static uint8_t *response_buffer;  /* where the guest takes the responses to its own requests */
static size_t response_capacity;
static uint32_t next_request_id = 1;

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

/* Reads the envelope (§3.1): keys may come in any order; unknown keys are ignored. */
static bool parse_frame(const uint8_t *data, size_t len, zk_frame *frame) {
    mp_reader r;
    uint32_t keys;
    bool has_id = false, has_kind = false, has_body = false;
    mp_reader_init(&r, data, len);
    if (!mp_read_map(&r, &keys)) return false;
    for (uint32_t i = 0; i < keys; i++) {
        mp_bytes key;
        if (!mp_read_str(&r, &key)) return false;
        if (mp_bytes_eq(key, "id")) {
            uint64_t id;
            if (!mp_read_uint(&r, &id) || id > 0xffffffffu) return false;
            frame->id = (uint32_t)id;
            has_id = true;
        } else if (mp_bytes_eq(key, "kind")) {
            has_kind = mp_read_str(&r, &frame->kind);
        } else if (mp_bytes_eq(key, "body")) {
            frame->body.data = r.p;
            has_body = mp_skip(&r);
            frame->body.len = (uint32_t)(r.p - frame->body.data);
        } else if (!mp_skip(&r)) { /* "v", and any key a later minor version adds */
            return false;
        }
    }
    return has_id && has_kind && has_body && r.p == r.end;
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
    mp_write_uint(w, VERSION_MINOR);
}

/* Reads an `ok` or `error` response answering request `id`. */
static bool parse_response(const uint8_t *data, size_t len, uint32_t id, zk_response *response) {
    zk_frame frame;
    mp_reader field;
    if (!parse_frame(data, len, &frame) || frame.id != id) return false;
    response->ok = mp_bytes_eq(frame.kind, "ok");
    if (response->ok) {
        if (!zk_body_field(&frame, "value", &field)) return false;
        response->value.data = field.p;
        if (!mp_skip(&field)) return false;
        response->value.len = (uint32_t)(field.p - response->value.data);
        return true;
    }
    return mp_bytes_eq(frame.kind, "error") && zk_body_field(&frame, "code", &field) && mp_read_str(&field, &response->code) &&
           zk_body_field(&frame, "message", &field) && mp_read_str(&field, &response->message);
}

bool zk_request_send(mp_writer *w, const char *kind, zk_response *response) {
    uint32_t id = next_request_id;
    next_request_id = next_request_id == UINT32_MAX ? 1 : next_request_id + 1; /* §2: wraps to 1 */
    frame_end(w, id, kind);
    bool sent = false;
    if (!w->failed) {
        int32_t len = zkguest_call(w->data, (int32_t)w->len);
        /* The response stays pending until taken; the buffer is grown to its length first. */
        sent = len > 0 && grow(&response_buffer, &response_capacity, (size_t)len) != NULL &&
               zkguest_take(response_buffer, (int32_t)response_capacity) == len &&
               parse_response(response_buffer, (size_t)len, id, response);
    }
    mp_writer_free(w);
    return sent;
}

void zk_reply_send(mp_writer *w, uint32_t id, const char *kind) {
    frame_end(w, id, kind);
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

bool zk_log(const char *level, const char *message, const mp_writer *fields) {
    mp_writer w;
    zk_response response;
    zk_frame_begin(&w);
    mp_write_map(&w, fields ? 3 : 2);
    if (fields) {
        mp_write_cstr(&w, "fields");
        mp_write_raw(&w, fields->data, fields->len);
    }
    mp_write_cstr(&w, "level");
    mp_write_cstr(&w, level);
    mp_write_cstr(&w, "message");
    mp_write_cstr(&w, message);
    return zk_request_send(&w, "log", &response) && response.ok;
}

__attribute__((export_name("zkguest_handle"))) int32_t zkguest_handle(const uint8_t *ptr, int32_t len) {
    zk_frame request;
    if (len < 0 || !parse_frame(ptr, (size_t)len, &request)) {
        static const char message[] = "the request is not a frame this guest can read";
        zk_reply_error(0, "malformed_frame", message, sizeof message - 1);
        return 0;
    }
    controller_handle(&request);
    return 0;
}
