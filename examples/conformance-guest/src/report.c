#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "report.h"
#include "zkguest.h"

static unsigned counts[3];
static const char *const NAMES[] = {"pass", "fail", "skip"};

void report(const char *check, verdict result, const char *format, ...) {
    char detail[400];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    counts[result]++;
    mp_writer fields;
    mp_writer_init(&fields);
    mp_write_map(&fields, 3);
    mp_write_cstr(&fields, "check");
    mp_write_cstr(&fields, check);
    mp_write_cstr(&fields, "detail");
    mp_write_cstr(&fields, detail);
    mp_write_cstr(&fields, "result");
    mp_write_cstr(&fields, NAMES[result]);
    zk_log(result == FAIL ? "error" : "info", CHECK_LINE, &fields);
    mp_writer_free(&fields);
}

void report_if(const char *check, bool ok, const char *detail) { report(check, ok ? PASS : FAIL, "%s", detail); }

const unsigned *report_counts(void) { return counts; }

void report_reset(void) { counts[PASS] = counts[FAIL] = counts[SKIP] = 0; }

void report_summary(const unsigned totals[3], unsigned omitted) {
    mp_writer fields;
    mp_writer_init(&fields);
    mp_write_map(&fields, omitted ? 4 : 3);
    mp_write_cstr(&fields, "fail");
    mp_write_uint(&fields, totals[FAIL]);
    if (omitted) {
        mp_write_cstr(&fields, "omitted");
        mp_write_uint(&fields, omitted);
    }
    mp_write_cstr(&fields, "pass");
    mp_write_uint(&fields, totals[PASS]);
    mp_write_cstr(&fields, "skip");
    mp_write_uint(&fields, totals[SKIP]);
    zk_log(totals[FAIL] ? "error" : "info", SUMMARY_LINE, &fields);
    mp_writer_free(&fields);
}
