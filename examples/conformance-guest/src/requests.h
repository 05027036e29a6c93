/*
 * The reference guest's requests to the host, each keeping the host's whole answer: the ABI
 * status, and the ok value or the error code (unlike zk_request_send, which only says whether
 * it worked). Paths and messages are NUL-terminated unless a length is given.
 */
#ifndef CONFORMANCE_REQUESTS_H
#define CONFORMANCE_REQUESTS_H

#include "zkguest.h"

/* A host answer: zk_call's status (> 0: `r` is set; < 0: an ABI status or ZK_UNREADABLE_RESPONSE). */
typedef struct {
    int32_t status;
    zk_response r;
} answer;

/* A Stat (SPEC.md §4.5). */
typedef struct {
    char name[16];
    char type[8];
    uint64_t size;
    char modified[24];
} stat_info;

answer fs_store(const char *path, const uint8_t *data, size_t len, const char *mode);
/* `offset` or `length` below 0 leaves the field out. */
answer fs_read(const char *path, int64_t offset, int64_t length);
/* fs.list, fs.stat or fs.remove. */
answer fs_path(const char *kind, const char *path);
answer fs_mkdir(const char *path, bool parents);
answer send_log(const char *level, const char *message, size_t message_len, const mp_writer *fields);
/* fs.list of one page (SPEC.md 1.1): at most `length` entries from the `offset`-th. */
answer fs_list_page(const char *path, uint64_t offset, uint64_t length);
/* Notes a frame the host sent (every answer is noted here); the first that is not canonical is kept. */
void note_host_frame(const char *what, const uint8_t *data, size_t len);
/* How many host frames were noted and how many were not canonical; the first one's problem. */
const char *host_frames_noncanonical(unsigned *checked, unsigned *bad);
void reset_host_frames(void);
/* A whole frame the caller wrote, carrying `id` (from zk_next_request_id). */
answer send_frame(const uint8_t *frame, size_t len, uint32_t id);
/* `frame` with its envelope's id replaced by `id` (in the id's original width when it fits); other bytes kept as they are. */
bool renumber(const uint8_t *frame, size_t len, uint32_t id, mp_writer *out);

bool answered_ok(const answer *a);
bool answered_error(const answer *a, const char *code);
/* The answer in a few words ("ok", "error CODE: MESSAGE", "call returned -3 ..."); valid until the next call. */
const char *describe(const answer *a);
/* Reads a Stat map at `r`. */
bool read_stat(mp_reader *r, stat_info *s);
/* An ok answer's value as a Stat. */
bool answer_stat(const answer *a, stat_info *s);
/* Copies `text` (not NUL-terminated) into `out`, cut to fit. */
void copy_text(mp_bytes text, char *out, size_t cap);

#endif
