/*
 * A scriptable test guest for the host's tests: a C controller (built with the example's
 * zkguest.c and msgpack.c) whose behaviour comes from the request's arguments, so that a test
 * can play a well-behaved or a hostile guest without a new build:
 *
 *   args = {"witness": [step...], "entrypoint": [step...]}
 *
 * witness.get runs the "witness" steps, proof.result the "entrypoint" steps, then it answers
 * ok nil. A step is
 *
 *   bin                      a request frame, sent as it is (the response is kept)
 *   {"frame": bin, "repeat": n}   the same frame n times (the last response is kept)
 *   "ready"                  witness.ready with one data witness per response kept so far
 *                            (the response frames' bytes), so a test can read every answer
 *   "print"                  a line on stdout
 *   "spin"                   a loop that never calls the host
 *   "trap"                   unreachable
 *   "recurse"                unbounded recursion
 *   "oom"                    allocates until malloc fails, then traps
 *   "exit"                   exit(3)
 *   "echo"                   the host request's body (MessagePack, as received) on stdout
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zkguest.h"

__attribute__((import_module("zkguest"), import_name("call"))) int32_t script_call(const uint8_t *ptr, int32_t len);
__attribute__((import_module("zkguest"), import_name("take"))) int32_t script_take(uint8_t *ptr, int32_t cap);

typedef struct {
    uint8_t *data;
    size_t len;
} kept_response;

#define MAX_KEPT 64
static kept_response kept[MAX_KEPT];
static size_t kept_count;

static void keep(uint8_t *data, size_t len) {
    if (kept_count == MAX_KEPT) {
        free(data);
        return;
    }
    kept[kept_count].data = data;
    kept[kept_count].len = len;
    kept_count++;
}

/* Sends a raw frame; returns the response (malloc'd) or NULL with *len the negative status. */
static uint8_t *send_raw(const uint8_t *frame, size_t frame_len, int32_t *len) {
    *len = script_call(frame, (int32_t)frame_len);
    if (*len <= 0) return NULL;
    uint8_t *response = malloc((size_t)*len);
    if (response == NULL || script_take(response, *len) != *len) __builtin_trap();
    return response;
}

static void send_and_keep(const uint8_t *frame, size_t frame_len, uint64_t times) {
    uint8_t *last = NULL;
    int32_t len = 0;
    for (uint64_t i = 0; i < times; i++) {
        free(last);
        last = send_raw(frame, frame_len, &len);
    }
    if (last != NULL) keep(last, (size_t)len);
}

static void send_ready(void) {
    mp_writer w;
    zk_response response;
    zk_frame_begin(&w);
    mp_write_map(&w, 1);
    mp_write_cstr(&w, "witnesses");
    mp_write_array(&w, (uint32_t)kept_count);
    for (size_t i = 0; i < kept_count; i++) {
        mp_write_map(&w, 2);
        mp_write_cstr(&w, "data");
        mp_write_bin(&w, kept[i].data, kept[i].len);
        mp_write_cstr(&w, "type");
        mp_write_cstr(&w, "data");
    }
    zk_request_send(&w, "witness.ready", &response);
}

/* `limit` is never reached (the caller passes a huge one): it only keeps the compiler from refusing the recursion. */
static int recurse(int depth, int limit) {
    volatile char pad[256];
    pad[0] = (char)depth;
    if (depth == limit) return 0;
    return recurse(depth + 1, limit) + pad[0];
}

/* The host request being handled (for "echo"). */
static const zk_frame *current_request;

static void run_command(mp_bytes command) {
    if (mp_bytes_eq(command, "ready")) {
        send_ready();
    } else if (mp_bytes_eq(command, "print")) {
        printf("printed by the script guest\n");
        fflush(stdout);
    } else if (mp_bytes_eq(command, "spin")) {
        for (volatile unsigned i = 0;; i++) {
        }
    } else if (mp_bytes_eq(command, "trap")) {
        __builtin_trap();
    } else if (mp_bytes_eq(command, "recurse")) {
        recurse(0, 0x7fffffff);
    } else if (mp_bytes_eq(command, "oom")) {
        /* Touched and kept, so that the compiler cannot drop the allocations. */
        static char *volatile last;
        while ((last = malloc(4096)) != NULL) last[0] = 1;
        __builtin_trap();
    } else if (mp_bytes_eq(command, "exit")) {
        exit(3);
    } else if (mp_bytes_eq(command, "echo")) {
        fwrite(current_request->body.data, 1, current_request->body.len, stdout);
        fflush(stdout);
    }
}

static void run_steps(mp_reader *steps) {
    uint32_t count;
    if (!mp_read_array(steps, &count)) return;
    for (uint32_t i = 0; i < count; i++) {
        mp_reader peek = *steps;
        mp_bytes bytes;
        uint32_t entries;
        if (mp_read_bin(&peek, &bytes)) {
            *steps = peek;
            send_and_keep(bytes.data, bytes.len, 1);
        } else if ((peek = *steps, mp_read_str(&peek, &bytes))) {
            *steps = peek;
            run_command(bytes);
        } else if ((peek = *steps, mp_read_map(&peek, &entries))) {
            mp_bytes frame = {NULL, 0};
            uint64_t repeat = 1;
            for (uint32_t e = 0; e < entries; e++) {
                mp_bytes key;
                if (!mp_read_str(&peek, &key)) return;
                if (mp_bytes_eq(key, "frame")) mp_read_bin(&peek, &frame);
                else if (mp_bytes_eq(key, "repeat")) mp_read_uint(&peek, &repeat);
                else mp_skip(&peek);
            }
            *steps = peek;
            if (frame.data != NULL) send_and_keep(frame.data, frame.len, repeat);
        } else {
            return;
        }
    }
}

/* Runs the steps under `key` of the request's args, if any. */
static void run_script(const zk_frame *request, const char *key) {
    mp_reader args;
    uint32_t entries;
    if (!zk_body_field(request, "args", &args) || !mp_read_map(&args, &entries)) return;
    for (uint32_t i = 0; i < entries; i++) {
        mp_bytes name;
        if (!mp_read_str(&args, &name)) return;
        if (mp_bytes_eq(name, key)) {
            run_steps(&args);
            return;
        }
        if (!mp_skip(&args)) return;
    }
}

void controller_handle(const zk_frame *request) {
    if (mp_bytes_eq(request->kind, "hello")) {
        mp_writer w;
        zk_frame_begin(&w);
        mp_write_map(&w, 1);
        mp_write_cstr(&w, "value");
        mp_write_map(&w, 2);
        mp_write_cstr(&w, "guest");
        mp_write_cstr(&w, "zkguest-script-guest/0.1.0");
        mp_write_cstr(&w, "version");
        mp_write_array(&w, 2);
        mp_write_uint(&w, 1);
        mp_write_uint(&w, 0);
        zk_reply_send(&w, request->id, "ok");
        return;
    }
    current_request = request;
    run_script(request, mp_bytes_eq(request->kind, "witness.get") ? "witness" : "entrypoint");
    zk_reply_ok_nil(request->id);
}
