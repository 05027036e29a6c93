/*
 * The guest kit's conformance controller contract (contract.ts), and the ordinary controller
 * the kit runs when the args ask for nothing in particular.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "requests.h"

#define FILE_PATH "/CONF/FILE.BIN"
#define OP_REPORT "conformance.op"

/* The protocol code an answer stands for: the error's code, "ok", or what an ABI status means. */
static void code_of(const answer *a, char *out, size_t cap) {
    if (a->status > 0 && !a->r.ok) copy_text(a->r.code, out, cap);
    else snprintf(out, cap, "%s", a->status > 0 ? "ok" : a->status == -3 ? "frame_too_large" : a->status == ZK_UNREADABLE_RESPONSE ? "malformed_frame" : "internal");
}

/* One OP_REPORT line: {code, op}. */
static void report_op(const char *op, const answer *a) {
    char code[40];
    code_of(a, code, sizeof code);
    mp_writer fields;
    mp_writer_init(&fields);
    mp_write_map(&fields, 2);
    mp_write_cstr(&fields, "code");
    mp_write_cstr(&fields, code);
    mp_write_cstr(&fields, "op");
    mp_write_cstr(&fields, op);
    zk_log("info", OP_REPORT, &fields);
    mp_writer_free(&fields);
}

/* Answers `request` with the failure of one of the guest's own requests: the host's code, or internal for an ABI status. */
static void reply_failure(const zk_frame *request, const answer *a) {
    char code[40];
    code_of(a, code, sizeof code);
    const char *why = describe(a);
    zk_reply_error(request->id, code, why, strlen(why));
}

bool send_no_witnesses(const zk_frame *request) {
    mp_writer w;
    zk_frame_begin(&w);
    mp_write_map(&w, 1);
    mp_write_cstr(&w, "witnesses");
    mp_write_array(&w, 0);
    answer a = {0};
    a.status = zk_request(&w, "witness.ready", &a.r);
    if (answered_ok(&a)) return true;
    reply_failure(request, &a);
    return false;
}

void contract_fs_errors(const zk_frame *request) {
    static const uint8_t data[] = "abc";
    answer a;
    a = fs_store(FILE_PATH, data, 3, "overwrite");
    report_op("fs.store", &a);
    a = fs_read(FILE_PATH, -1, -1);
    report_op("fs.read", &a);
    a = fs_path("fs.list", "/CONF");
    report_op("fs.list", &a);
    a = fs_path("fs.stat", FILE_PATH);
    report_op("fs.stat", &a);
    a = fs_path("fs.remove", FILE_PATH);
    report_op("fs.remove", &a);
    a = fs_mkdir("/CONF/DIR", false);
    report_op("fs.mkdir", &a);
    if (send_no_witnesses(request)) zk_reply_ok_nil(request->id);
}

void contract_frame_limit(const zk_frame *request, uint64_t bytes) {
    uint8_t *data = calloc(bytes ? bytes : 1, 1);
    if (data == NULL) {
        static const char message[] = "frame-limit: out of memory";
        zk_reply_error(request->id, "internal", message, sizeof message - 1);
        return;
    }
    answer a = fs_store("/CONF/BIG.BIN", data, bytes, "overwrite");
    free(data);
    report_op("fs.store", &a);
    if (send_no_witnesses(request)) zk_reply_ok_nil(request->id);
}

void ordinary_witness(const zk_frame *request) {
    mp_reader args;
    const uint8_t *start = NULL;
    if (zk_body_field(request, "args", &args)) start = args.p;
    if (start == NULL || !mp_skip(&args)) {
        static const char message[] = "witness.get: body.args is missing or malformed";
        zk_reply_error(request->id, "malformed_frame", message, sizeof message - 1);
        return;
    }
    mp_writer w;
    zk_frame_begin(&w);
    mp_write_map(&w, 1);
    mp_write_cstr(&w, "witnesses");
    mp_write_array(&w, 1);
    mp_write_map(&w, 2);
    mp_write_cstr(&w, "data");
    mp_write_bin(&w, start, (size_t)(args.p - start));
    mp_write_cstr(&w, "type");
    mp_write_cstr(&w, "data");
    answer a = {0};
    a.status = zk_request(&w, "witness.ready", &a.r);
    if (answered_ok(&a)) zk_reply_ok_nil(request->id);
    else reply_failure(request, &a);
}

void ordinary_entrypoint(const zk_frame *request) {
    mp_reader field;
    bool success = false;
    mp_bytes proof;
    if (zk_body_field(request, "success", &field) && mp_read_bool(&field, &success) && !success) {
        zk_log("warn", "proving failed", NULL);
        zk_reply_ok_nil(request->id);
        return;
    }
    if (!success || !zk_body_field(request, "proof", &field) || !mp_read_bin(&field, &proof)) {
        static const char message[] = "proof.result: success without body.proof";
        zk_reply_error(request->id, "malformed_frame", message, sizeof message - 1);
        return;
    }
    answer a = fs_store("/var/share/proof.bin", proof.data, proof.len, "overwrite");
    if (answered_ok(&a)) {
        zk_log("info", "proof stored", NULL);
        zk_reply_ok_nil(request->id);
        return;
    }
    zk_log("error", describe(&a), NULL);
    reply_failure(request, &a);
}
