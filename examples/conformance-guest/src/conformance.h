/*
 * The reference guest of the host conformance kit, and the C conformance controller of the
 * guest kit (packages/host-sdk/src/conformance/contract.ts). Its witness step's args choose
 * what it does: {"conformance": "host"} runs the host checks, "fs-errors" and "frame-limit"
 * follow the guest kit's contract, anything else makes it an ordinary controller.
 */
#ifndef CONFORMANCE_H
#define CONFORMANCE_H

#include "zkguest.h"

/* The limits of the last hello (SPEC.md §6); the optional ones say whether they were given. */
typedef struct {
    uint64_t max_frame_bytes, max_path_bytes, max_log_message_bytes;
    bool has_max_host_calls, has_quota_bytes, has_quota_files;
    uint64_t max_host_calls, quota_bytes, quota_files;
} host_limits;

extern host_limits announced;
/* The minor of version 1 agreed in hello: 1.1's features (fs.list pages) are used only from 1. */
extern uint64_t agreed_minor;

/* The host checks: the witness step's part, then the entrypoint's (which also reads back what the witness step logged). */
void host_checks_witness(const zk_frame *request);
void host_checks_entrypoint(const zk_frame *request);

/* The guest kit's contract modes: each sends witness.ready and answers the request. */
void contract_fs_errors(const zk_frame *request);
void contract_frame_limit(const zk_frame *request, uint64_t bytes);

/* An ordinary controller: one data witness (the args); the entrypoint stores the proof. */
void ordinary_witness(const zk_frame *request);
void ordinary_entrypoint(const zk_frame *request);

/* Sends witness.ready with no witnesses; false (and the request answered with the error) if the host refused it. */
bool send_no_witnesses(const zk_frame *request);

#endif
