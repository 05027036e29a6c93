/*
 * The controller: hello (negotiation, and the limits the checks need), then witness.get and
 * proof.result routed by the mode in their args.
 */
#include <stdio.h>
#include <string.h>

#include "conformance.h"

#define GUEST_NAME "zkguest-conformance-guest/1.0"

/* SPEC.md §6's defaults: what holds until a hello says otherwise. */
#define DEFAULTS {4194304, 255, 8192, false, false, false, 0, 0, 0}

host_limits announced = DEFAULTS;

static void read_limits(const zk_frame *hello) {
    mp_reader limits;
    uint32_t entries;
    host_limits l = DEFAULTS;
    if (zk_body_field(hello, "limits", &limits) && mp_read_map(&limits, &entries)) {
        for (uint32_t i = 0; i < entries; i++) {
            mp_bytes key;
            if (!mp_read_str(&limits, &key)) break;
            if (mp_bytes_eq(key, "max_frame_bytes")) mp_read_uint(&limits, &l.max_frame_bytes);
            else if (mp_bytes_eq(key, "max_path_bytes")) mp_read_uint(&limits, &l.max_path_bytes);
            else if (mp_bytes_eq(key, "max_log_message_bytes")) mp_read_uint(&limits, &l.max_log_message_bytes);
            else if (mp_bytes_eq(key, "max_host_calls")) l.has_max_host_calls = mp_read_uint(&limits, &l.max_host_calls);
            else if (mp_bytes_eq(key, "quota_bytes")) l.has_quota_bytes = mp_read_uint(&limits, &l.quota_bytes);
            else if (mp_bytes_eq(key, "quota_files")) l.has_quota_files = mp_read_uint(&limits, &l.quota_files);
            else if (!mp_skip(&limits)) break;
        }
    }
    announced = l;
}

uint64_t agreed_minor;

/* §8: version 1.x if the host offers major 1 (x the smaller of its minor and this layer's). */
static void on_hello(const zk_frame *request) {
    mp_reader offer;
    uint32_t versions;
    bool one = false;
    uint64_t offered_minor = 0;
    if (zk_body_field(request, "offer", &offer) && mp_read_array(&offer, &versions)) {
        for (uint32_t i = 0; i < versions; i++) {
            uint32_t pair;
            uint64_t major, minor;
            if (!mp_read_array(&offer, &pair) || pair != 2 || !mp_read_uint(&offer, &major) || !mp_read_uint(&offer, &minor)) break;
            if (major == 1) offered_minor = minor;
            one = one || major == 1;
        }
    }
    if (!one) {
        static const char message[] = "the host offers no version 1.x; this side speaks 1.1: no common major version";
        zk_reply_error(request->id, "unsupported_version", message, sizeof message - 1);
        return;
    }
    read_limits(request);
    mp_writer w;
    zk_frame_begin(&w);
    mp_write_map(&w, 1);
    mp_write_cstr(&w, "value");
    mp_write_map(&w, 2);
    mp_write_cstr(&w, "guest");
    mp_write_cstr(&w, GUEST_NAME);
    mp_write_cstr(&w, "version");
    mp_write_array(&w, 2);
    mp_write_uint(&w, 1);
    agreed_minor = zk_choose_minor(offered_minor);
    mp_write_uint(&w, agreed_minor);
    zk_reply_send(&w, request->id, "ok");
}

/* The args' "conformance" mode ("" when there is none), and its "bytes" field. */
static void mode_of(const zk_frame *request, char *mode, size_t cap, uint64_t *bytes) {
    mp_reader args;
    uint32_t entries;
    mode[0] = 0;
    *bytes = 0;
    if (!zk_body_field(request, "args", &args) || !mp_read_map(&args, &entries)) return;
    for (uint32_t i = 0; i < entries; i++) {
        mp_bytes key, text;
        if (!mp_read_str(&args, &key)) return;
        if (mp_bytes_eq(key, "conformance") && mp_read_str(&args, &text)) snprintf(mode, cap, "%.*s", (int)text.len, (const char *)text.data);
        else if (mp_bytes_eq(key, "bytes") && mp_read_uint(&args, bytes)) continue;
        else if (args.failed || !mp_skip(&args)) return;
    }
}

void controller_handle(const zk_frame *request) {
    char mode[16];
    uint64_t bytes;
    if (mp_bytes_eq(request->kind, "hello")) {
        on_hello(request);
        return;
    }
    mode_of(request, mode, sizeof mode, &bytes);
    bool witness = mp_bytes_eq(request->kind, "witness.get");
    if (strcmp(mode, "host") == 0) {
        if (witness) host_checks_witness(request);
        else host_checks_entrypoint(request);
        zk_reply_ok_nil(request->id);
    } else if (witness && strcmp(mode, "fs-errors") == 0) {
        contract_fs_errors(request);
    } else if (witness && strcmp(mode, "frame-limit") == 0) {
        contract_frame_limit(request, bytes);
    } else if (witness) {
        ordinary_witness(request);
    } else {
        ordinary_entrypoint(request);
    }
}
