/*
 * The host checks (README "Conformance"): every host operation and every error path SPEC.md
 * defines, as seen from a guest. The witness step runs the disk, name, path, frame, version,
 * log and limit checks under /CONFORM (removed before and after); the entrypoint checks what
 * came back in proof.result (the logs, the args, the proof) and that the disk kept the witness
 * step's file, then logs the summary.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "report.h"
#include "requests.h"
#include "vectors.h"

#define BASE "/CONFORM"
#define DATA BASE "/DATA.BIN"

/* Requests a check of the whole root needs: 512 stores and as many removes, with room to spare. */
#define ROOT_FILL_CALLS 1200
/* Quotas and limits above these are too large to reach in a check: skipped. */
#define MAX_QUOTA_FILES 2048
#define MAX_BYTES (64u * 1024 * 1024)

static const uint8_t NOTHING[1];

/* A check in progress: the first thing that went wrong, if any. */
typedef struct {
    bool failed;
    char why[360];
} probe;

static void need(probe *p, bool ok, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void need(probe *p, bool ok, const char *format, ...) {
    if (ok || p->failed) return;
    p->failed = true;
    va_list args;
    va_start(args, format);
    vsnprintf(p->why, sizeof p->why, format, args);
    va_end(args);
}

static void expect_ok(probe *p, const char *what, answer a) { need(p, answered_ok(&a), "%s: expected ok, got %s", what, describe(&a)); }

static void expect_code(probe *p, const char *what, answer a, const char *code) {
    need(p, answered_error(&a, code), "%s: expected error %s, got %s", what, code, describe(&a));
}

/* Reports the probe: pass with `detail`, or fail with what went wrong first. */
static void conclude(const char *check, const probe *p, const char *detail) { report(check, p->failed ? FAIL : PASS, "%s", p->failed ? p->why : detail); }

/* A check that one request gets one error code; the pass detail is the host's message. */
static void check_code(const char *check, answer a, const char *code) {
    report_if(check, answered_error(&a, code), describe(&a));
}

static bool stat_is(const answer *a, const char *name, const char *type, uint64_t size) {
    stat_info s;
    return answer_stat(a, &s) && strcmp(s.name, name) == 0 && strcmp(s.type, type) == 0 && s.size == size;
}

/* SPEC.md §4.5: YYYY-MM-DDTHH:MM:SS, a FAT time: 2-second precision, so the seconds are even. */
static bool is_timestamp(const char *t) {
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    if (strlen(t) != sizeof shape - 1) return false;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i]) return false;
    return (t[18] - '0') % 2 == 0;
}

/* What a host stamps on everything a guest writes (SPEC.md §4.5). */
#define GUEST_EPOCH "2024-01-01T00:00:00"
/* The root has no directory entry: its modified is FAT's epoch (SPEC.md §4.5). */
#define FAT_EPOCH "1980-01-01T00:00:00"

static bool read_gives(const answer *a, const char *text) {
    mp_reader r;
    mp_bytes bytes;
    if (!answered_ok(a)) return false;
    mp_reader_init(&r, a->r.value.data, a->r.value.len);
    return mp_read_bin(&r, &bytes) && bytes.len == strlen(text) && memcmp(bytes.data, text, bytes.len) == 0;
}

/* Entries a cleanup lists at most per directory, and how deep it goes: whatever a host answers, it ends. */
#define CLEANUP_MAX_ENTRIES 4096
#define CLEANUP_MAX_DEPTH 8
#define CLEANUP_PAGE 16

/*
 * Names of the entries of `dir` (at most `cap`), copied out (the next request reuses the answer's
 * buffer): in pages of CLEANUP_PAGE when 1.1 was agreed, so that a directory of any size lists
 * under a small max_frame_bytes; in one fs.list under 1.0. Names that are not a child's (".",
 * "..", empty, with a "/") are skipped: a host that lists them must not send the cleanup round
 * in circles. Returns how many were copied.
 */
static uint32_t list_names(const char *dir, char (*names)[16], uint32_t cap) {
    uint32_t got = 0;
    for (uint64_t offset = 0; got < cap;) {
        answer a = agreed_minor >= 1 ? fs_list_page(dir, offset, CLEANUP_PAGE) : fs_path("fs.list", dir);
        mp_reader r;
        uint32_t n = 0;
        stat_info s;
        if (!answered_ok(&a)) break;
        mp_reader_init(&r, a.r.value.data, a.r.value.len);
        if (!mp_read_array(&r, &n)) break;
        for (uint32_t i = 0; i < n && got < cap && read_stat(&r, &s); i++) {
            if (s.name[0] == 0 || strcmp(s.name, ".") == 0 || strcmp(s.name, "..") == 0 || strchr(s.name, '/')) continue;
            snprintf(names[got++], sizeof *names, "%s", s.name);
        }
        if (agreed_minor < 1 || n < CLEANUP_PAGE) break;
        offset += n;
    }
    return got;
}

static void remove_below(const char *path, int depth) {
    answer a = fs_path("fs.stat", path);
    stat_info s;
    if (!answer_stat(&a, &s)) return;
    if (strcmp(s.type, "dir") == 0 && depth < CLEANUP_MAX_DEPTH) {
        char (*names)[16] = calloc(CLEANUP_MAX_ENTRIES, sizeof *names);
        uint32_t got = names ? list_names(path, names, CLEANUP_MAX_ENTRIES) : 0;
        for (uint32_t i = 0; i < got; i++) {
            char child[300];
            snprintf(child, sizeof child, "%s/%s", path, names[i]);
            remove_below(child, depth + 1);
        }
        free(names);
    }
    fs_path("fs.remove", path);
}

/* Removes `path` and everything below it; missing is fine. Bounded whatever the host answers. */
static void remove_tree(const char *path) { remove_below(path, 0); }

/* ---- every operation on success ---- */

/*
 * fs.list gives directory order (SPEC.md §5.2): in a directory where nothing was removed, the
 * order the entries were made in, never sorted. Under 1.1 it pages: offset and length.
 */
static void check_list_order(void) {
    static const char *const made[] = {"C.BIN", "A.BIN", "D", "B.BIN"};
    probe p = {0};
    expect_ok(&p, "mkdir " BASE "/ORDER", fs_mkdir(BASE "/ORDER", false));
    for (size_t i = 0; i < 4; i++) {
        char path[64];
        snprintf(path, sizeof path, BASE "/ORDER/%s", made[i]);
        expect_ok(&p, path, i == 2 ? fs_mkdir(path, false) : fs_store(path, (const uint8_t *)"o", 1, "create"));
    }
    char names[4][16] = {{0}};
    uint32_t got = list_names(BASE "/ORDER", names, 4);
    char seen[80];
    snprintf(seen, sizeof seen, "%s %s %s %s", names[0], names[1], names[2], names[3]);
    need(&p, got == 4 && strcmp(seen, "C.BIN A.BIN D B.BIN") == 0, "listed %u entries in the order '%s', expected the order they were made: C.BIN A.BIN D B.BIN", got, seen);
    if (agreed_minor >= 1) {
        answer a = fs_list_page(BASE "/ORDER", 1, 2);
        mp_reader r;
        uint32_t n = 0;
        stat_info s1 = {0}, s2 = {0};
        if (answered_ok(&a)) {
            mp_reader_init(&r, a.r.value.data, a.r.value.len);
            if (!mp_read_array(&r, &n) || (n >= 1 && !read_stat(&r, &s1)) || (n >= 2 && !read_stat(&r, &s2))) n = 0;
        }
        need(&p, n == 2 && strcmp(s1.name, "A.BIN") == 0 && strcmp(s2.name, "D") == 0, "offset 1 length 2: expected A.BIN and D, got %s with %u entries (%s, %s)", describe(&a), n, s1.name, s2.name);
        a = fs_list_page(BASE "/ORDER", 9, 5);
        need(&p, answered_ok(&a) && a.r.value.len == 1 && a.r.value.data[0] == 0x90, "offset 9 (past the end): expected an empty array, got %s", describe(&a));
    }
    remove_tree(BASE "/ORDER");
    conclude("fs.list: directory order, and pages", &p, agreed_minor >= 1 ? "the order they were made in; pages by offset and length" : "the order they were made in (1.0: no pages)");
}

static void check_operations(void) {
    probe p = {0};
    answer a = fs_mkdir(BASE, false);
    need(&p, answered_ok(&a) && a.r.value.len == 1 && a.r.value.data[0] == 0xc0, "mkdir " BASE ": expected ok nil, got %s", describe(&a));
    conclude("fs.mkdir", &p, "ok nil");

    p = (probe){0};
    expect_ok(&p, "mkdir " BASE "/A/B with parents", fs_mkdir(BASE "/A/B", true));
    expect_ok(&p, "the same again (parents: an existing directory is fine)", fs_mkdir(BASE "/A/B", true));
    a = fs_path("fs.stat", BASE "/A");
    need(&p, stat_is(&a, "A", "dir", 0), "stat " BASE "/A: expected a directory, got %s", describe(&a));
    conclude("fs.mkdir parents", &p, "made " BASE "/A/B and its parent; again is fine");

    p = (probe){0};
    a = fs_store(DATA, (const uint8_t *)"hello", 5, "create");
    stat_info s = {0};
    need(&p, answer_stat(&a, &s), "store " DATA ": expected ok with a Stat, got %s", describe(&a));
    need(&p, strcmp(s.name, "DATA.BIN") == 0 && strcmp(s.type, "file") == 0 && s.size == 5, "the Stat is %s %s %llu bytes, expected DATA.BIN file 5 bytes", s.name, s.type, (unsigned long long)s.size);
    need(&p, is_timestamp(s.modified), "modified '%s' is not YYYY-MM-DDTHH:MM:SS with even seconds", s.modified);
    need(&p, strcmp(s.modified, GUEST_EPOCH) == 0, "modified '%s': a host stamps what a guest writes with the guests' epoch " GUEST_EPOCH " (SPEC.md 4.5)", s.modified);
    conclude("fs.store create", &p, "Stat DATA.BIN, file, 5 bytes, modified " GUEST_EPOCH);

    p = (probe){0};
    a = fs_store(DATA, (const uint8_t *)"abc", 3, "overwrite");
    need(&p, stat_is(&a, "DATA.BIN", "file", 3), "overwrite with 3 bytes: expected a 3-byte Stat, got %s", describe(&a));
    conclude("fs.store overwrite", &p, "replaced: 3 bytes");

    p = (probe){0};
    a = fs_store(DATA, (const uint8_t *)"de", 2, "append");
    need(&p, stat_is(&a, "DATA.BIN", "file", 5), "append 2 bytes: expected a 5-byte Stat, got %s", describe(&a));
    a = fs_store(BASE "/NEW.BIN", (const uint8_t *)"x", 1, "append");
    need(&p, stat_is(&a, "NEW.BIN", "file", 1), "append to a missing file creates it: got %s", describe(&a));
    conclude("fs.store append", &p, "appended; a missing file is created");

    p = (probe){0};
    expect_ok(&p, "store " BASE "/NEW/SUB/F.TXT (missing parents)", fs_store(BASE "/NEW/SUB/F.TXT", (const uint8_t *)"f", 1, "create"));
    a = fs_path("fs.stat", BASE "/NEW/SUB");
    need(&p, stat_is(&a, "SUB", "dir", 0), "stat " BASE "/NEW/SUB: expected the directory the store made, got %s", describe(&a));
    conclude("fs.store makes missing parents", &p, BASE "/NEW/SUB made");

    p = (probe){0};
    a = fs_read(DATA, -1, -1);
    need(&p, read_gives(&a, "abcde"), "read " DATA ": expected 'abcde', got %s", describe(&a));
    conclude("fs.read", &p, "the whole file");

    p = (probe){0};
    a = fs_read(DATA, 1, 3);
    need(&p, read_gives(&a, "bcd"), "offset 1 length 3: expected 'bcd', got %s", describe(&a));
    a = fs_read(DATA, 4, 10);
    need(&p, read_gives(&a, "e"), "offset 4 length 10: expected 'e' (fewer bytes past the end), got %s", describe(&a));
    a = fs_read(DATA, 9, -1);
    need(&p, read_gives(&a, ""), "offset 9: expected no bytes, got %s", describe(&a));
    conclude("fs.read range", &p, "ranges, and fewer or no bytes past the end");

    p = (probe){0};
    a = fs_path("fs.list", BASE);
    mp_reader r;
    uint32_t n = 0;
    unsigned found = 0;
    bool dots = false;
    if (answered_ok(&a)) {
        mp_reader_init(&r, a.r.value.data, a.r.value.len);
        if (!mp_read_array(&r, &n)) n = 0;
        for (uint32_t i = 0; i < n && read_stat(&r, &s); i++) {
            found += (strcmp(s.name, "A") == 0 && strcmp(s.type, "dir") == 0 && s.size == 0) + (strcmp(s.name, "DATA.BIN") == 0 && s.size == 5) +
                     (strcmp(s.name, "NEW") == 0 && strcmp(s.type, "dir") == 0);
            dots = dots || strcmp(s.name, ".") == 0 || strcmp(s.name, "..") == 0;
        }
    }
    need(&p, answered_ok(&a) && found == 3 && !dots, "list " BASE ": expected A (dir), DATA.BIN (5 bytes) and NEW (dir) without . and .., got %s with %u of them%s", describe(&a), found, dots ? " and a dot entry" : "");
    conclude("fs.list", &p, "A, DATA.BIN, NEW.BIN, NEW; no . or ..");

    p = (probe){0};
    a = fs_path("fs.stat", DATA);
    need(&p, stat_is(&a, "DATA.BIN", "file", 5), "stat " DATA ": got %s", describe(&a));
    a = fs_path("fs.stat", "/");
    need(&p, stat_is(&a, "/", "dir", 0), "stat /: expected name '/', a directory, got %s", describe(&a));
    need(&p, answer_stat(&a, &s) && strcmp(s.modified, FAT_EPOCH) == 0, "stat /: modified '%s', expected FAT's epoch " FAT_EPOCH " (the root has no entry)", s.modified);
    a = fs_path("fs.stat", BASE "/A");
    need(&p, answer_stat(&a, &s) && strcmp(s.modified, GUEST_EPOCH) == 0, "stat " BASE "/A: a directory the guest made is modified '%s', expected " GUEST_EPOCH, s.modified);
    conclude("fs.stat", &p, "a file, a directory, and the root as '/' (modified " FAT_EPOCH ")");

    check_list_order();

    p = (probe){0};
    a = fs_path("fs.stat", "/conform/data.bin");
    need(&p, stat_is(&a, "DATA.BIN", "file", 5), "stat /conform/data.bin: expected DATA.BIN, got %s", describe(&a));
    a = fs_store(BASE "/lower.txt", (const uint8_t *)"l", 1, "create");
    need(&p, stat_is(&a, "LOWER.TXT", "file", 1), "store lower.txt: expected the Stat of LOWER.TXT (stored upper-case), got %s", describe(&a));
    conclude("names are case-insensitive, stored upper-case", &p, "/conform/data.bin is DATA.BIN; lower.txt is stored LOWER.TXT");

    p = (probe){0};
    a = fs_path("fs.stat", "/./CONFORM/A/B/../../DATA.BIN");
    need(&p, stat_is(&a, "DATA.BIN", "file", 5), "stat /./CONFORM/A/B/../../DATA.BIN: got %s", describe(&a));
    conclude("'.' and '..' in paths", &p, "/./CONFORM/A/B/../../DATA.BIN is DATA.BIN");

    p = (probe){0};
    expect_ok(&p, "remove " BASE "/NEW/SUB/F.TXT", fs_path("fs.remove", BASE "/NEW/SUB/F.TXT"));
    expect_code(&p, "stat the removed file", fs_path("fs.stat", BASE "/NEW/SUB/F.TXT"), "not_found");
    expect_ok(&p, "remove the empty directory " BASE "/NEW/SUB", fs_path("fs.remove", BASE "/NEW/SUB"));
    conclude("fs.remove", &p, "a file, then an empty directory");
}

/* ---- names, paths and the disk's errors ---- */

static void check_invalid_names(const char *check, const char *const *paths, size_t count) {
    probe p = {0};
    answer a = {0};
    for (size_t i = 0; i < count; i++) {
        a = fs_store(paths[i], (const uint8_t *)"x", 1, "create");
        need(&p, answered_error(&a, "invalid_name"), "store '%s': expected error invalid_name, got %s", paths[i], describe(&a));
    }
    conclude(check, &p, describe(&a));
}

static void check_names(void) {
    static const char *const ext4[] = {BASE "/PROOF.JSON"};
    check_invalid_names("invalid_name: 4-character extension", ext4, 1);
    /* A host must not truncate the name to make it fit. */
    answer a = fs_path("fs.stat", BASE "/PROOF.JSO");
    check_code("invalid_name: nothing stored under a shortened name", a, "not_found");
    static const char *const base9[] = {BASE "/ABCDEFGHI.BIN", BASE "/ABCDEFGHI"};
    check_invalid_names("invalid_name: 9-character base", base9, 2);
    static const char *const chars[] = {BASE "/A B.BIN", BASE "/A*B.BIN", BASE "/A+B.BIN", BASE "/A,B.BIN", BASE "/A;B.BIN", BASE "/A=B.BIN",
                                        BASE "/A[B].BIN", BASE "/A\"B.BIN", BASE "/A?B.BIN", BASE "/A<B.BIN", BASE "/A|B.BIN", BASE "/A\\B.BIN",
                                        BASE "/A:B.BIN", BASE "/\xc3\xa9T\xc3\xa9.BIN"};
    check_invalid_names("invalid_name: illegal characters", chars, sizeof chars / sizeof *chars);
    static const char *const empty[] = {BASE "//X.BIN", BASE "/X.BIN/"};
    check_invalid_names("invalid_name: empty component", empty, 2);
    static const char *const dots[] = {BASE "/A.B.C", BASE "/.HIDDEN", BASE "/NAME."};
    check_invalid_names("invalid_name: dots", dots, 3);
}

static void check_paths(void) {
    check_code("invalid_path: '..' above the root", fs_path("fs.stat", "/../X.BIN"), "invalid_path");
    check_code("invalid_path: '..' above the root, deeper", fs_store(BASE "/../../X.BIN", (const uint8_t *)"x", 1, "create"), "invalid_path");
    check_code("invalid_path: relative path", fs_path("fs.stat", "CONFORM/DATA.BIN"), "invalid_path");
    /* Valid components, one byte over max_path_bytes. */
    uint64_t max = announced.max_path_bytes;
    if (max > 16384) {
        report("invalid_path: longer than max_path_bytes", SKIP, "max_path_bytes %llu is too large to test", (unsigned long long)max);
        return;
    }
    char *path = malloc(max + 2);
    for (uint64_t i = 0; i <= max; i++) path[i] = i % 9 == 0 ? '/' : 'A';
    if (path[max] == '/') path[max] = 'A';
    path[max + 1] = 0;
    check_code("invalid_path: longer than max_path_bytes", fs_path("fs.stat", path), "invalid_path");
    free(path);
}

static void check_disk_errors(void) {
    probe p = {0};
    expect_code(&p, "read a missing file", fs_read(BASE "/NONE.BIN", -1, -1), "not_found");
    expect_code(&p, "stat a missing file", fs_path("fs.stat", BASE "/NONE.BIN"), "not_found");
    expect_code(&p, "remove a missing file", fs_path("fs.remove", BASE "/NONE.BIN"), "not_found");
    expect_code(&p, "list a missing directory", fs_path("fs.list", BASE "/NODIR"), "not_found");
    conclude("not_found", &p, "read, stat, remove and list of missing paths");

    p = (probe){0};
    expect_code(&p, "store create on an existing file", fs_store(DATA, (const uint8_t *)"x", 1, "create"), "already_exists");
    expect_code(&p, "mkdir without parents on an existing directory", fs_mkdir(BASE "/A", false), "already_exists");
    conclude("already_exists", &p, "store create, and mkdir without parents");

    p = (probe){0};
    expect_code(&p, "list a file", fs_path("fs.list", DATA), "not_a_directory");
    expect_code(&p, "store below a file", fs_store(DATA "/X.BIN", (const uint8_t *)"x", 1, "create"), "not_a_directory");
    expect_code(&p, "mkdir below a file", fs_mkdir(DATA "/SUB", true), "not_a_directory");
    conclude("not_a_directory", &p, "list a file; store and mkdir below one");

    p = (probe){0};
    expect_code(&p, "read a directory", fs_read(BASE "/A", -1, -1), "is_a_directory");
    expect_code(&p, "store over a directory", fs_store(BASE "/A", (const uint8_t *)"x", 1, "overwrite"), "is_a_directory");
    conclude("is_a_directory", &p, "read and store on a directory");

    check_code("directory_not_empty", fs_path("fs.remove", BASE "/A"), "directory_not_empty");
}

/* ---- frames, versions and kinds ---- */

/* The vectors of protocol/vectors a guest can send: accepted ones answered as usual, invalid ones refused with their code. */
static void check_vectors(void) {
    /* The accepted vectors stat /A and list /: make sure /A exists, and leave the disk as found. */
    answer a = fs_path("fs.stat", "/A");
    bool made = a.status > 0 && !a.r.ok;
    if (made) fs_mkdir("/A", false);
    for (size_t i = 0; i < VECTOR_COUNT; i++) {
        const vector *v = &VECTORS[i];
        char check[96];
        snprintf(check, sizeof check, "vector: %s", v->name);
        mp_writer frame;
        uint32_t id = zk_next_request_id();
        if (!renumber(v->bytes, v->len, id, &frame)) {
            report(check, FAIL, "the guest could not renumber the vector (a bug in the reference guest)");
            mp_writer_free(&frame);
            continue;
        }
        a = send_frame(frame.data, frame.len, id);
        mp_writer_free(&frame);
        if (strcmp(v->expect, "accepted") == 0) report_if(check, answered_ok(&a), describe(&a));
        else check_code(check, a, v->expect);
    }
    if (made) fs_path("fs.remove", "/A");
}

/* A log request written at 1.9 with a body field 1.0 does not have, and an envelope key: the host reads it as 1.0 and ignores both. */
static void check_minor_extension(void) {
    mp_writer w;
    uint32_t id = zk_next_request_id();
    mp_writer_init(&w);
    mp_write_map(&w, 5);
    mp_write_cstr(&w, "body");
    mp_write_map(&w, 3);
    mp_write_cstr(&w, "level");
    mp_write_cstr(&w, "info");
    mp_write_cstr(&w, "message");
    mp_write_cstr(&w, "conformance.minor");
    mp_write_cstr(&w, "trace");
    mp_write_cstr(&w, "a field a later minor adds");
    mp_write_cstr(&w, "id");
    mp_write_uint(&w, id);
    mp_write_cstr(&w, "kind");
    mp_write_cstr(&w, "log");
    mp_write_cstr(&w, "span");
    mp_write_uint(&w, 7);
    mp_write_cstr(&w, "v");
    mp_write_array(&w, 2);
    mp_write_uint(&w, 1);
    mp_write_uint(&w, 9);
    answer a = send_frame(w.data, w.len, id);
    mp_writer_free(&w);
    probe p = {0};
    expect_ok(&p, "a 1.9 log with an unknown body field and envelope key", a);
    /* The answer is written in the agreed version (§8). */
    if (answered_ok(&a)) {
        mp_reader r;
        uint32_t keys, pair;
        uint64_t major = 0, minor = 0;
        mp_reader_init(&r, a.r.frame.data, a.r.frame.len);
        mp_read_map(&r, &keys);
        for (uint32_t i = 0; i < keys; i++) {
            mp_bytes key;
            if (!mp_read_str(&r, &key)) break;
            if (mp_bytes_eq(key, "v") && mp_read_array(&r, &pair) && pair == 2 && mp_read_uint(&r, &major) && mp_read_uint(&r, &minor)) break;
            if (!mp_skip(&r)) break;
        }
        need(&p, major == 1 && minor == agreed_minor, "the answer carries version %llu.%llu, not the agreed 1.%llu", (unsigned long long)major, (unsigned long long)minor, (unsigned long long)agreed_minor);
    }
    conclude("minor extension: 1.9 frame with unknown fields", &p, "ok, answered in the agreed version (the entrypoint checks the field was dropped)");
}

/* A request over max_frame_bytes: `call` returns -3 without the host reading it, and the run goes on. */
static void check_oversize_frame(void) {
    const char *check = "frame over max_frame_bytes: status -3";
    uint64_t max = announced.max_frame_bytes;
    if (max > MAX_BYTES) {
        report(check, SKIP, "max_frame_bytes %llu is too large to exceed here", (unsigned long long)max);
        return;
    }
    uint8_t *data = calloc(max, 1);
    if (data == NULL) {
        report(check, SKIP, "the guest could not allocate %llu bytes", (unsigned long long)max);
        return;
    }
    answer a = fs_store(BASE "/BIG.BIN", data, max, "overwrite");
    free(data);
    probe p = {0};
    need(&p, a.status == -3, "a %llu-byte fs.store: expected call to return -3, got %s", (unsigned long long)max + 60, describe(&a));
    expect_code(&p, "the next request (the run goes on)", fs_path("fs.stat", BASE "/BIG.BIN"), "not_found");
    conclude(check, &p, "-3, nothing stored, and the run goes on");
}

static void check_log_limit(void) {
    const char *check = "log message over max_log_message_bytes: limit_exceeded";
    uint64_t max = announced.max_log_message_bytes;
    if (max + 128 > announced.max_frame_bytes || max > 16u * 1024 * 1024) {
        report(check, SKIP, "max_log_message_bytes %llu does not fit in a frame to exceed it", (unsigned long long)max);
        return;
    }
    char *message = malloc(max + 1);
    memset(message, 'x', max + 1);
    answer a = send_log("info", message, max + 1, NULL);
    free(message);
    report_if(check, answered_error(&a, "limit_exceeded"), describe(&a));
}

/* ---- logs and witnesses (read back by the entrypoint) ---- */

/* Log fields of every Value type, canonical; the entrypoint compares what comes back with these bytes. */
static void write_sample_fields(mp_writer *w) {
    static const uint8_t float_1_5[] = {0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0};
    static const uint8_t minus_300[] = {0xd1, 0xfe, 0xd4};
    static const uint8_t bin[] = {0, 1, 2, 0xff};
    mp_write_map(w, 10);
    mp_write_cstr(w, "array");
    mp_write_array(w, 3);
    mp_write_uint(w, 1);
    mp_write_cstr(w, "two");
    mp_write_nil(w);
    mp_write_cstr(w, "bin");
    mp_write_bin(w, bin, sizeof bin);
    mp_write_cstr(w, "false");
    mp_write_bool(w, false);
    mp_write_cstr(w, "float");
    mp_write_raw(w, float_1_5, sizeof float_1_5);
    mp_write_cstr(w, "map");
    mp_write_map(w, 2);
    mp_write_cstr(w, "a");
    mp_write_uint(w, 1);
    mp_write_cstr(w, "b");
    mp_write_map(w, 1);
    mp_write_cstr(w, "c");
    mp_write_bool(w, true);
    mp_write_cstr(w, "negative");
    mp_write_raw(w, minus_300, sizeof minus_300);
    mp_write_cstr(w, "nil");
    mp_write_nil(w);
    mp_write_cstr(w, "string");
    mp_write_cstr(w, "h\xc3\xa9llo \xe2\x9c\x93");
    mp_write_cstr(w, "true");
    mp_write_bool(w, true);
    mp_write_cstr(w, "uint64");
    mp_write_uint(w, 1ull << 40);
}

static void send_logs(const zk_frame *request) {
    probe p = {0};
    mp_writer fields;
    mp_writer_init(&fields);
    write_sample_fields(&fields);
    expect_ok(&p, "a log line with fields of every Value type", send_log("info", "conformance.fields", 18, &fields));
    mp_writer_free(&fields);
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < 4; i++) expect_ok(&p, levels[i], send_log(levels[i], "conformance.level", 17, NULL));
    /* The args, so that the entrypoint can check proof.result carries them unchanged. */
    mp_reader args;
    const uint8_t *start = zk_body_field(request, "args", &args) ? args.p : NULL;
    if (start && mp_skip(&args)) {
        mp_writer_init(&fields);
        mp_write_map(&fields, 1);
        mp_write_cstr(&fields, "args");
        mp_write_raw(&fields, start, (size_t)(args.p - start));
        expect_ok(&p, "a log line carrying the args", send_log("info", "conformance.args", 16, &fields));
        mp_writer_free(&fields);
    }
    conclude("log", &p, "fields of every Value type, and each level (the entrypoint checks they came back)");
}

static void check_witness_ready(void) {
    static const uint8_t data[] = {1, 2, 3};
    probe p = {0};
    for (int attempt = 0; attempt < 2; attempt++) {
        mp_writer w;
        zk_frame_begin(&w);
        mp_write_map(&w, 1);
        mp_write_cstr(&w, "witnesses");
        mp_write_array(&w, 2);
        mp_write_map(&w, 2);
        mp_write_cstr(&w, "data");
        mp_write_bin(&w, data, 3);
        mp_write_cstr(&w, "type");
        mp_write_cstr(&w, "data");
        mp_write_map(&w, 5);
        mp_write_cstr(&w, "domain");
        mp_write_cstr(&w, "conformance");
        mp_write_cstr(&w, "payload");
        mp_write_bin(&w, data, 2);
        mp_write_cstr(&w, "proof");
        mp_write_bin(&w, data, 1);
        mp_write_cstr(&w, "root");
        mp_write_bin(&w, data, 3);
        mp_write_cstr(&w, "type");
        mp_write_cstr(&w, "state_proof");
        answer a = {0};
        a.status = zk_request(&w, "witness.ready", &a.r);
        if (attempt == 0) expect_ok(&p, "witness.ready with a data and a state_proof witness", a);
        else expect_code(&p, "a second witness.ready", a, "invalid_state");
    }
    conclude("witness.ready once (both witness kinds); twice is invalid_state", &p, "ok, then invalid_state");
}

/* ---- quotas and the full root ---- */

static bool enough_calls(uint64_t needed) { return !announced.has_max_host_calls || announced.max_host_calls >= needed + 400; }

static void check_quota_bytes(void) {
    const char *check = "quota_exceeded: quota_bytes";
    if (!announced.has_quota_bytes) { report(check, SKIP, "the host announced no quota_bytes in hello"); return; }
    uint64_t quota = announced.quota_bytes;
    uint64_t chunk = announced.max_frame_bytes > 64 * 1024 + 256 ? 64 * 1024 : announced.max_frame_bytes - 256;
    if (quota > MAX_BYTES || !enough_calls(quota / chunk + 2)) { report(check, SKIP, "quota_bytes %llu is too large to fill here", (unsigned long long)quota); return; }
    uint8_t *data = calloc(chunk, 1);
    uint64_t stored = 0;
    answer a = {0};
    while (data && stored <= quota + chunk) {
        a = fs_store(BASE "/QUOTA.BIN", data, chunk, "append");
        if (!answered_ok(&a)) break;
        stored += chunk;
    }
    free(data);
    char got[360];
    snprintf(got, sizeof got, "%s", describe(&a));
    if (answered_error(&a, "no_space")) {
        report(check, SKIP, "the disk filled (no_space) after %llu bytes, before the quota of %llu", (unsigned long long)stored, (unsigned long long)quota);
    } else {
        probe p = {0};
        need(&p, answered_error(&a, "quota_exceeded"), "appending 64 KiB chunks: expected error quota_exceeded, got %s after %llu bytes", got, (unsigned long long)stored);
        need(&p, stored <= quota, "%llu bytes were stored, above the quota of %llu", (unsigned long long)stored, (unsigned long long)quota);
        answer s = fs_path("fs.stat", BASE "/QUOTA.BIN");
        need(&p, stored == 0 || stat_is(&s, "QUOTA.BIN", "file", stored), "the refused append changed the file: %s, expected %llu bytes", describe(&s), (unsigned long long)stored);
        conclude(check, &p, got);
    }
    fs_path("fs.remove", BASE "/QUOTA.BIN");
}

static void check_quota_files(void) {
    const char *check = "quota_exceeded: quota_files";
    if (!announced.has_quota_files) { report(check, SKIP, "the host announced no quota_files in hello"); return; }
    uint64_t quota = announced.quota_files;
    if (quota > MAX_QUOTA_FILES || !enough_calls(2 * quota)) { report(check, SKIP, "quota_files %llu is too large to fill here", (unsigned long long)quota); return; }
    fs_mkdir(BASE "/Q", false);
    uint64_t made = 0;
    answer a = {0};
    char path[40];
    for (; made <= quota; made++) {
        snprintf(path, sizeof path, BASE "/Q/F%05llu", (unsigned long long)made);
        a = fs_store(path, NOTHING, 0, "create");
        if (!answered_ok(&a)) break;
    }
    char got[360];
    snprintf(got, sizeof got, "%s", describe(&a));
    probe p = {0};
    need(&p, answered_error(&a, "quota_exceeded"), "creating files: expected error quota_exceeded, got %s after %llu files", got, (unsigned long long)made);
    need(&p, made < quota, "%llu files were made, which with /CONFORM reaches past the quota of %llu", (unsigned long long)made, (unsigned long long)quota);
    conclude(check, &p, got);
    /* By name, not by listing: a listing of them all may not fit in max_frame_bytes. */
    for (uint64_t i = 0; i < made; i++) {
        snprintf(path, sizeof path, BASE "/Q/F%05llu", (unsigned long long)i);
        fs_path("fs.remove", path);
    }
    remove_tree(BASE "/Q");
}

/* The root holds 512 entries (FAT-16): filling it gives directory_full, never a silent success. */
static void check_directory_full(void) {
    const char *check = "directory_full: the root's 512 entries";
    if (!enough_calls(ROOT_FILL_CALLS)) { report(check, SKIP, "max_host_calls %llu is too few to fill the root", (unsigned long long)announced.max_host_calls); return; }
    char (*names)[16] = calloc(512, sizeof *names);
    uint32_t listed = names ? list_names("/", names, 512) : 0;
    free(names);
    answer a = {0};
    unsigned made = 0;
    char path[16];
    for (; made < 600; made++) {
        snprintf(path, sizeof path, "/ZKC%04u", made);
        a = fs_store(path, NOTHING, 0, "create");
        if (!answered_ok(&a)) break;
    }
    /* What the answer was, before the removals reuse its buffer. */
    char got[360];
    snprintf(got, sizeof got, "%s", describe(&a));
    bool full = answered_error(&a, "directory_full"), quota = answered_error(&a, "quota_exceeded");
    for (unsigned i = 0; i < made; i++) {
        snprintf(path, sizeof path, "/ZKC%04u", i);
        fs_path("fs.remove", path);
    }
    if (quota) {
        report(check, SKIP, "the file quota was reached first: %u files created in / (which held %u entries before), %s", made, listed, got);
        return;
    }
    probe p = {0};
    need(&p, full, "creating files in /: expected error directory_full, got %s after %u files (the root held %u entries before)", got, made, listed);
    /* 512 slots; a volume label takes one (SPEC.md 4.4), which fs.list does not show. */
    need(&p, listed + made == 512 || listed + made == 511, "the root held %u listed entries and took %u more: %u, not the 512 slots of a FAT-16 root (511 with a volume label)", listed, made, listed + made);
    conclude(check, &p, got);
}

/* One check line for the host frames noted since the step began: all canonical (SPEC.md §3.2). */
static void check_host_frames(const char *check) {
    unsigned checked, bad;
    const char *first = host_frames_noncanonical(&checked, &bad);
    if (bad) report(check, FAIL, "%u of %u host frames are not canonical; the first: %s", bad, checked, first);
    else report(check, PASS, "%u host frames, all canonical", checked);
}

void host_checks_witness(const zk_frame *request) {
    report_reset();
    reset_host_frames();
    note_host_frame("witness.get", request->bytes.data, request->bytes.len);
    remove_tree(BASE); /* what an interrupted earlier run left */
    check_operations();
    check_names();
    check_paths();
    check_disk_errors();
    check_vectors();
    check_minor_extension();
    check_oversize_frame();
    check_log_limit();
    send_logs(request);
    check_witness_ready();
    check_quota_bytes();
    check_quota_files();
    check_directory_full();
    fs_store(BASE "/KEEP.BIN", (const uint8_t *)"kept", 4, "overwrite");
    check_host_frames("host frames are canonical (witness step)");
}

/* ---- the entrypoint: what came back ---- */

/* One entry of proof.result's logs. */
typedef struct {
    mp_bytes level, message;
    mp_bytes fields; /* the encoded map, or empty */
    bool other_keys; /* a key other than level, message and fields */
} log_entry;

static bool next_entry(mp_reader *logs, log_entry *e) {
    uint32_t keys;
    *e = (log_entry){0};
    if (!mp_read_map(logs, &keys)) return false;
    for (uint32_t i = 0; i < keys; i++) {
        mp_bytes key;
        if (!mp_read_str(logs, &key)) return false;
        if (mp_bytes_eq(key, "level")) {
            if (!mp_read_str(logs, &e->level)) return false;
        } else if (mp_bytes_eq(key, "message")) {
            if (!mp_read_str(logs, &e->message)) return false;
        } else {
            const uint8_t *start = logs->p;
            if (!mp_skip(logs)) return false;
            if (mp_bytes_eq(key, "fields")) e->fields = (mp_bytes){start, (uint32_t)(logs->p - start)};
            else e->other_keys = true;
        }
    }
    return true;
}

/* A field of an encoded map, as its encoded bytes. */
static bool map_field(mp_bytes map, const char *name, mp_bytes *value) {
    mp_reader r;
    uint32_t keys;
    mp_reader_init(&r, map.data, map.len);
    if (!mp_read_map(&r, &keys)) return false;
    for (uint32_t i = 0; i < keys; i++) {
        mp_bytes key;
        if (!mp_read_str(&r, &key)) return false;
        const uint8_t *start = r.p;
        if (!mp_skip(&r)) return false;
        if (mp_bytes_eq(key, name)) {
            *value = (mp_bytes){start, (uint32_t)(r.p - start)};
            return true;
        }
    }
    return false;
}

static bool same_bytes(mp_bytes a, mp_bytes b) { return a.len == b.len && memcmp(a.data, b.data, a.len) == 0; }

void host_checks_entrypoint(const zk_frame *request) {
    report_reset();
    reset_host_frames();
    note_host_frame("proof.result", request->bytes.data, request->bytes.len);
    mp_reader logs, field;
    uint32_t count = 0;
    unsigned totals[3] = {0, 0, 0};
    bool fields_seen = false, fields_intact = false, minor_seen = false, minor_clean = false, args_same = false;
    unsigned levels = 0, next_level = 0, omitted = 0;
    bool in_order = true;
    static const char *const LEVELS[] = {"debug", "info", "warn", "error"};
    mp_bytes args = {0};
    if (zk_body_field(request, "args", &field)) {
        args.data = field.p;
        if (mp_skip(&field)) args.len = (uint32_t)(field.p - args.data);
    }
    mp_writer sample;
    mp_writer_init(&sample);
    write_sample_fields(&sample);
    bool read = zk_body_field(request, "logs", &logs) && mp_read_array(&logs, &count);
    log_entry e;
    for (uint32_t i = 0; read && i < count && next_entry(&logs, &e); i++) {
        mp_bytes value;
        if (mp_bytes_eq(e.message, CHECK_LINE) && map_field(e.fields, "result", &value)) {
            mp_reader r;
            mp_bytes result;
            mp_reader_init(&r, value.data, value.len);
            if (mp_read_str(&r, &result)) totals[mp_bytes_eq(result, "pass") ? PASS : mp_bytes_eq(result, "fail") ? FAIL : SKIP]++;
        } else if (mp_bytes_eq(e.level, "warn") && e.message.len > 40 && e.message.data[0] >= '1' && e.message.data[0] <= '9' &&
                   memcmp(e.message.data + e.message.len - 36, "were left out to fit max_frame_bytes", 36) == 0) {
            omitted = (unsigned)strtoul((const char *)e.message.data, NULL, 10); /* SPEC.md 5.1: the host's note */
        } else if (mp_bytes_eq(e.message, "conformance.fields")) {
            fields_seen = true;
            fields_intact = mp_bytes_eq(e.level, "info") && same_bytes(e.fields, (mp_bytes){sample.data, (uint32_t)sample.len});
        } else if (mp_bytes_eq(e.message, "conformance.level")) {
            /* Logged debug, info, warn, error, after the fields line: they must come back in that order. */
            in_order = in_order && fields_seen && next_level < 4 && mp_bytes_eq(e.level, LEVELS[next_level]);
            next_level++;
            levels |= mp_bytes_eq(e.level, "debug") * 1u | mp_bytes_eq(e.level, "info") * 2u | mp_bytes_eq(e.level, "warn") * 4u | mp_bytes_eq(e.level, "error") * 8u;
        } else if (mp_bytes_eq(e.message, "conformance.minor")) {
            minor_seen = true;
            minor_clean = !e.other_keys && e.fields.len == 0;
        } else if (mp_bytes_eq(e.message, "conformance.args") && map_field(e.fields, "args", &value)) {
            args_same = same_bytes(value, args);
        }
    }
    mp_writer_free(&sample);

    report_if("proof.result logs: the witness step's check lines came back", read && totals[PASS] + totals[FAIL] + totals[SKIP] > 0,
              read ? "found them in proof.result's logs" : "proof.result has no logs array");
    probe p = {0};
    need(&p, fields_seen, "the 'conformance.fields' log line is missing from proof.result's logs");
    need(&p, fields_intact, "the 'conformance.fields' line came back with its level or fields changed (a field dropped or altered)");
    need(&p, levels == 15, "not all four levels came back (mask %u of 15)", levels);
    conclude("proof.result logs: log fields and levels intact", &p, "fields of every Value type byte for byte, and debug, info, warn, error");
    report_if("proof.result logs: in the order they were logged", levels == 15 && in_order,
              in_order ? "the fields line, then debug, info, warn, error" : "the witness step's lines came back in another order than it logged them");
    p = (probe){0};
    need(&p, minor_seen, "the 1.9 log line is missing from proof.result's logs");
    need(&p, minor_clean, "the 1.9 log line came back with its unknown field (a host ignores fields it does not know)");
    conclude("minor extension: the unknown field was ignored", &p, "logged as a 1.0 line");
    report_if("proof.result args unchanged", args_same, args_same ? "the witness step's args, byte for byte" : "proof.result's args differ from witness.get's");

    p = (probe){0};
    bool success = false;
    mp_bytes proof;
    need(&p, zk_body_field(request, "success", &field) && mp_read_bool(&field, &success), "proof.result has no success");
    if (success) {
        need(&p, zk_body_field(request, "proof", &field) && mp_read_bin(&field, &proof), "success without a proof");
        need(&p, !zk_body_field(request, "error", &field), "success with an error");
    } else {
        need(&p, zk_body_field(request, "error", &field), "a failure without an error");
    }
    conclude("proof.result: proof if and only if success", &p, success ? "success with a proof" : "failure with an error");

    answer a = fs_read(BASE "/KEEP.BIN", -1, -1);
    p = (probe){0};
    need(&p, read_gives(&a, "kept"), "read " BASE "/KEEP.BIN: expected 'kept', got %s", describe(&a));
    conclude("the disk keeps the witness step's files", &p, "read back " BASE "/KEEP.BIN");
    a = fs_store(BASE "/ENTRY.BIN", (const uint8_t *)"entry", 5, "create");
    p = (probe){0};
    need(&p, stat_is(&a, "ENTRY.BIN", "file", 5), "store " BASE "/ENTRY.BIN: expected its Stat, got %s", describe(&a));
    conclude("fs.store in the entrypoint", &p, "stored " BASE "/ENTRY.BIN");
    mp_writer w;
    zk_frame_begin(&w);
    mp_write_map(&w, 1);
    mp_write_cstr(&w, "witnesses");
    mp_write_array(&w, 0);
    a.status = zk_request(&w, "witness.ready", &a.r);
    check_code("witness.ready in the entrypoint: invalid_state", a, "invalid_state");
    remove_tree(BASE);
    check_host_frames("host frames are canonical (entrypoint)");

    const unsigned *mine = report_counts();
    for (int v = 0; v < 3; v++) totals[v] += mine[v];
    report_summary(totals, omitted);
}
