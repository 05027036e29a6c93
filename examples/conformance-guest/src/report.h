/*
 * The reference guest's check lines (packages/host-sdk/src/conformance/contract.ts): one log
 * line per check, level info (error when it failed), message "conformance.check", fields
 * {check, detail, result}; and the summary, message "conformance.summary", fields
 * {fail, pass, skip}.
 */
#ifndef CONFORMANCE_REPORT_H
#define CONFORMANCE_REPORT_H

typedef enum { PASS, FAIL, SKIP } verdict;

#define CHECK_LINE "conformance.check"
#define SUMMARY_LINE "conformance.summary"

/* Logs one check; the detail is a printf format. */
void report(const char *check, verdict result, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* Logs pass with `detail` when `ok`, else fail with `detail`: for checks whose detail is the answer either way. */
void report_if(const char *check, bool ok, const char *detail);

/* The checks this instance reported, by verdict (PASS, FAIL, SKIP). */
const unsigned *report_counts(void);

/* Logs the summary line with these counts. */
/* Starts counting again: each host request counts its own lines (a host may run both phases in one instance, SPEC.md §2). */
void report_reset(void);
/* `omitted`: log lines the host left out of proof.result to fit max_frame_bytes (SPEC.md 5.1), 0 for none. */
void report_summary(const unsigned totals[3], unsigned omitted);

#endif
