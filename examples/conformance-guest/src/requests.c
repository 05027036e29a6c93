#include "requests.h"

#include <stdio.h>
#include <string.h>

#include "canonical.h"

static unsigned frames_checked, frames_noncanonical;
static char first_noncanonical[300];

void note_host_frame(const char *what, const uint8_t *data, size_t len) {
    char why[200];
    frames_checked++;
    if (canonical_frame(data, len, why, sizeof why)) return;
    if (frames_noncanonical++ == 0) snprintf(first_noncanonical, sizeof first_noncanonical, "%s: %s", what, why);
}

const char *host_frames_noncanonical(unsigned *checked, unsigned *bad) {
    *checked = frames_checked;
    *bad = frames_noncanonical;
    return first_noncanonical;
}

void reset_host_frames(void) { frames_checked = frames_noncanonical = 0; }

static answer checked(answer a, const char *kind) {
    if (a.status > 0) {
        char what[64];
        snprintf(what, sizeof what, "the answer to %s", kind);
        note_host_frame(what, a.r.frame.data, a.r.frame.len);
    }
    return a;
}

static answer request(mp_writer *w, const char *kind) {
    answer a = {0};
    a.status = zk_request(w, kind, &a.r);
    return checked(a, kind);
}

answer fs_store(const char *path, const uint8_t *data, size_t len, const char *mode) {
    mp_writer w;
    zk_frame_begin(&w);
    mp_write_map(&w, 3);
    mp_write_cstr(&w, "data");
    mp_write_bin(&w, data, len);
    mp_write_cstr(&w, "mode");
    mp_write_cstr(&w, mode);
    mp_write_cstr(&w, "path");
    mp_write_cstr(&w, path);
    return request(&w, "fs.store");
}

answer fs_read(const char *path, int64_t offset, int64_t length) {
    mp_writer w;
    zk_frame_begin(&w);
    mp_write_map(&w, 1 + (offset >= 0) + (length >= 0));
    if (length >= 0) {
        mp_write_cstr(&w, "length");
        mp_write_uint(&w, (uint64_t)length);
    }
    if (offset >= 0) {
        mp_write_cstr(&w, "offset");
        mp_write_uint(&w, (uint64_t)offset);
    }
    mp_write_cstr(&w, "path");
    mp_write_cstr(&w, path);
    return request(&w, "fs.read");
}

answer fs_path(const char *kind, const char *path) {
    mp_writer w;
    zk_frame_begin(&w);
    mp_write_map(&w, 1);
    mp_write_cstr(&w, "path");
    mp_write_cstr(&w, path);
    return request(&w, kind);
}

answer fs_mkdir(const char *path, bool parents) {
    mp_writer w;
    zk_frame_begin(&w);
    mp_write_map(&w, 2);
    mp_write_cstr(&w, "parents");
    mp_write_bool(&w, parents);
    mp_write_cstr(&w, "path");
    mp_write_cstr(&w, path);
    return request(&w, "fs.mkdir");
}

answer send_log(const char *level, const char *message, size_t message_len, const mp_writer *fields) {
    mp_writer w;
    zk_log_begin(&w, level, message, message_len, fields);
    return request(&w, "log");
}

answer send_frame(const uint8_t *frame, size_t len, uint32_t id) {
    answer a = {0};
    a.status = zk_call(frame, len, id, &a.r);
    return checked(a, "a vector");
}

answer fs_list_page(const char *path, uint64_t offset, uint64_t length) {
    mp_writer w;
    zk_frame_begin(&w);
    mp_write_map(&w, 3);
    mp_write_cstr(&w, "length");
    mp_write_uint(&w, length);
    mp_write_cstr(&w, "offset");
    mp_write_uint(&w, offset);
    mp_write_cstr(&w, "path");
    mp_write_cstr(&w, path);
    return request(&w, "fs.list");
}

bool renumber(const uint8_t *frame, size_t len, uint32_t id, mp_writer *out) {
    mp_reader r;
    uint32_t keys;
    mp_reader_init(&r, frame, len);
    mp_writer_init(out);
    if (!mp_read_map(&r, &keys)) return false;
    mp_write_raw(out, frame, (size_t)(r.p - frame));
    for (uint32_t i = 0; i < keys; i++) {
        const uint8_t *start = r.p;
        mp_bytes key;
        if (!mp_read_str(&r, &key)) return false;
        const uint8_t *value = r.p;
        /* The vectors' faults lie inside their values (an ext, nesting): step over them by structure. */
        if (!mp_skip_any(&r)) return false;
        if (!mp_bytes_eq(key, "id")) {
            mp_write_raw(out, start, (size_t)(r.p - start));
            continue;
        }
        mp_write_raw(out, start, (size_t)(value - start));
        if (*value == 0xcb) { /* the float id vector keeps its float64 (SPEC.md 3.4: answered with its value) */
            double d = (double)id;
            uint64_t bits;
            memcpy(&bits, &d, 8);
            uint8_t wide[9] = {0xcb};
            for (int b = 0; b < 8; b++) wide[1 + b] = (uint8_t)(bits >> (56 - 8 * b));
            mp_write_raw(out, wide, sizeof wide);
        } else if (*value == 0xce) { /* a vector about larger encodings keeps its uint32 */
            uint8_t wide[5] = {0xce, (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};
            mp_write_raw(out, wide, sizeof wide);
        } else {
            mp_write_uint(out, id);
        }
    }
    return r.p == r.end && !out->failed;
}

bool answered_ok(const answer *a) { return a->status > 0 && a->r.ok; }

bool answered_error(const answer *a, const char *code) { return a->status > 0 && !a->r.ok && mp_bytes_eq(a->r.code, code); }

const char *describe(const answer *a) {
    static char text[320];
    if (a->status == ZK_UNREADABLE_RESPONSE) return "no readable answer (not an ok or error frame answering the request)";
    if (a->status <= 0) {
        snprintf(text, sizeof text, "call returned %ld%s", (long)a->status, a->status == -3 ? " (the frame is over max_frame_bytes)" : "");
    } else if (a->r.ok) {
        return "ok";
    } else {
        snprintf(text, sizeof text, "error %.*s: %.*s", (int)a->r.code.len, (const char *)a->r.code.data, (int)(a->r.message.len > 240 ? 240 : a->r.message.len),
                 (const char *)a->r.message.data);
    }
    return text;
}

void copy_text(mp_bytes text, char *out, size_t cap) { snprintf(out, cap, "%.*s", (int)text.len, (const char *)text.data); }

bool read_stat(mp_reader *r, stat_info *s) {
    uint32_t entries;
    bool name = false, type = false, size = false, modified = false;
    if (!mp_read_map(r, &entries)) return false;
    for (uint32_t i = 0; i < entries; i++) {
        mp_bytes key, text;
        if (!mp_read_str(r, &key)) return false;
        if (mp_bytes_eq(key, "name") && (name = mp_read_str(r, &text))) copy_text(text, s->name, sizeof s->name);
        else if (mp_bytes_eq(key, "type") && (type = mp_read_str(r, &text))) copy_text(text, s->type, sizeof s->type);
        else if (mp_bytes_eq(key, "modified") && (modified = mp_read_str(r, &text))) copy_text(text, s->modified, sizeof s->modified);
        else if (mp_bytes_eq(key, "size")) size = mp_read_uint(r, &s->size);
        else if (!mp_skip(r)) return false;
    }
    return name && type && size && modified;
}

bool answer_stat(const answer *a, stat_info *s) {
    mp_reader r;
    if (!answered_ok(a)) return false;
    mp_reader_init(&r, a->r.value.data, a->r.value.len);
    return read_stat(&r, s);
}
