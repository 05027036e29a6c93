/*
 * An example zkguest controller in C. It answers the host's three requests:
 *
 *   hello         chooses protocol version 1.x from the host's offer;
 *   witness.get   logs, and sends one data witness: the request's arguments, as MessagePack;
 *   proof.result  stores the proof at /var/share/proof.bin and logs it (or logs the failure).
 *
 * It also prints to stdout, which the host captures as log lines.
 */
#include <stdio.h>
#include <string.h>

#include "zkguest.h"

#define GUEST_NAME "zkguest-c-example/0.1.0"
#define PROOF_PATH "/var/share/proof.bin"

/* An error response's code and message, copied out: the next request reuses the response buffer. */
typedef struct {
    char code[32];
    char message[256];
} host_error;

static void copy_error(const zk_response *response, host_error *error) {
    snprintf(error->code, sizeof error->code, "%.*s", (int)response->code.len, (const char *)response->code.data);
    snprintf(error->message, sizeof error->message, "%.*s", (int)response->message.len, (const char *)response->message.data);
}

/* Answers a host request with the error the host gave one of the guest's own requests. */
static void reply_host_error(uint32_t id, const host_error *error) {
    zk_reply_error(id, error->code, error->message, strlen(error->message));
}

/* §8: the highest common major (1, the only one spoken here) and the smaller of the minors. */
static void on_hello(const zk_frame *request) {
    mp_reader offer;
    uint32_t versions;
    if (!zk_body_field(request, "offer", &offer) || !mp_read_array(&offer, &versions)) {
        static const char message[] = "hello: body.offer is not an array of versions";
        zk_reply_error(request->id, "malformed_frame", message, sizeof message - 1);
        return;
    }
    char offered[96] = "";
    for (uint32_t i = 0; i < versions; i++) {
        uint32_t pair;
        uint64_t major, minor;
        if (!mp_read_array(&offer, &pair) || pair != 2 || !mp_read_uint(&offer, &major) || !mp_read_uint(&offer, &minor)) break;
        if (major == 1) {
            uint64_t chosen = zk_choose_minor(minor);
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
            mp_write_uint(&w, chosen);
            zk_reply_send(&w, request->id, "ok");
            return;
        }
        size_t used = strlen(offered);
        snprintf(offered + used, sizeof offered - used, "%s%llu.%llu", used ? ", " : "", (unsigned long long)major,
                 (unsigned long long)minor);
    }
    char message[160];
    int len = snprintf(message, sizeof message, "peer offers %s; this side speaks 1.%d: no common major version",
                       offered[0] ? offered : "nothing", ZK_VERSION_MINOR);
    zk_reply_error(request->id, "unsupported_version", message, (size_t)len < sizeof message ? (size_t)len : sizeof message - 1);
}

static void on_witness_get(const zk_frame *request) {
    mp_reader args;
    bool found = zk_body_field(request, "args", &args);
    const uint8_t *start = args.p; /* the args Value's bytes run from here to where skipping ends */
    if (!found || !mp_skip(&args)) {
        static const char message[] = "witness.get: body.args is missing or malformed";
        zk_reply_error(request->id, "malformed_frame", message, sizeof message - 1);
        return;
    }
    size_t args_len = (size_t)(args.p - start);

    printf("witness.get: %zu bytes of arguments\n", args_len);

    mp_writer fields;
    mp_writer_init(&fields);
    mp_write_map(&fields, 1);
    mp_write_cstr(&fields, "args_bytes");
    mp_write_uint(&fields, args_len);
    zk_log("info", "computing the witnesses", &fields);
    mp_writer_free(&fields);

    /* witness.ready {witnesses: [{data: <args>, type: "data"}]} */
    mp_writer w;
    zk_response response;
    zk_frame_begin(&w);
    mp_write_map(&w, 1);
    mp_write_cstr(&w, "witnesses");
    mp_write_array(&w, 1);
    mp_write_map(&w, 2);
    mp_write_cstr(&w, "data");
    mp_write_bin(&w, start, args_len);
    mp_write_cstr(&w, "type");
    mp_write_cstr(&w, "data");
    if (!zk_request_send(&w, "witness.ready", &response)) {
        static const char message[] = "witness.ready: no response from the host";
        zk_reply_error(request->id, "internal", message, sizeof message - 1);
    } else if (!response.ok) {
        host_error error;
        copy_error(&response, &error);
        reply_host_error(request->id, &error);
    } else {
        zk_reply_ok_nil(request->id);
    }
}

static void on_proof_result(const zk_frame *request) {
    mp_reader field;
    bool success = false;
    mp_bytes proof;
    if (!zk_body_field(request, "success", &field) || !mp_read_bool(&field, &success)) {
        static const char message[] = "proof.result: body.success is not a bool";
        zk_reply_error(request->id, "malformed_frame", message, sizeof message - 1);
        return;
    }
    if (!success) {
        mp_bytes code = {(const uint8_t *)"", 0}, text = {(const uint8_t *)"", 0};
        mp_reader error;
        uint32_t entries;
        if (zk_body_field(request, "error", &error) && mp_read_map(&error, &entries)) {
            for (uint32_t i = 0; i < entries; i++) {
                mp_bytes key;
                if (!mp_read_str(&error, &key)) break;
                if (mp_bytes_eq(key, "code")) mp_read_str(&error, &code);
                else if (mp_bytes_eq(key, "message")) mp_read_str(&error, &text);
                else mp_skip(&error);
            }
        }
        char message[256];
        snprintf(message, sizeof message, "proving failed: %.*s: %.*s", (int)code.len, (const char *)code.data, (int)text.len,
                 (const char *)text.data);
        zk_log("warn", message, NULL);
        zk_reply_ok_nil(request->id);
        return;
    }
    if (!zk_body_field(request, "proof", &field) || !mp_read_bin(&field, &proof)) {
        static const char message[] = "proof.result: success without body.proof";
        zk_reply_error(request->id, "malformed_frame", message, sizeof message - 1);
        return;
    }

    /* fs.store {data, mode: "overwrite", path} */
    mp_writer w;
    zk_response response;
    zk_frame_begin(&w);
    mp_write_map(&w, 3);
    mp_write_cstr(&w, "data");
    mp_write_bin(&w, proof.data, proof.len);
    mp_write_cstr(&w, "mode");
    mp_write_cstr(&w, "overwrite");
    mp_write_cstr(&w, "path");
    mp_write_cstr(&w, PROOF_PATH);
    if (!zk_request_send(&w, "fs.store", &response)) {
        static const char message[] = "fs.store: no response from the host";
        zk_reply_error(request->id, "internal", message, sizeof message - 1);
        return;
    }
    if (!response.ok) {
        host_error error;
        char message[320];
        copy_error(&response, &error);
        snprintf(message, sizeof message, "storing the proof failed: %s: %s", error.code, error.message);
        zk_log("error", message, NULL);
        reply_host_error(request->id, &error);
        return;
    }

    mp_writer fields;
    mp_writer_init(&fields);
    mp_write_map(&fields, 2);
    mp_write_cstr(&fields, "bytes");
    mp_write_uint(&fields, proof.len);
    mp_write_cstr(&fields, "path");
    mp_write_cstr(&fields, PROOF_PATH);
    zk_log("info", "stored the proof", &fields);
    mp_writer_free(&fields);
    zk_reply_ok_nil(request->id);
}

void controller_handle(const zk_frame *request) {
    if (mp_bytes_eq(request->kind, "hello")) on_hello(request);
    else if (mp_bytes_eq(request->kind, "witness.get")) on_witness_get(request);
    else if (mp_bytes_eq(request->kind, "proof.result")) on_proof_result(request);
    else {
        char message[96];
        int len = snprintf(message, sizeof message, "unknown message kind '%.*s'", (int)request->kind.len, (const char *)request->kind.data);
        zk_reply_error(request->id, "unknown_kind", message, (size_t)len < sizeof message ? (size_t)len : sizeof message - 1);
    }
}
