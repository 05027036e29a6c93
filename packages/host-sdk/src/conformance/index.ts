/**
 * `@zkguest/host-sdk/conformance`: the conformance kits (README "Conformance"). The guest kit
 * drives any guest through the engine contract from a reference host; the host kit reads the
 * check lines of the reference guest (examples/conformance-guest) out of a run's logs.
 */
export { runGuestKit, FS_ERROR_CODES, laterMinorCode, type GuestKitOptions } from "./guest-kit.js";
export { CHECK_LINE, CONTRACT_KEY, contractArgs, FS_OPS, OP_OK, OP_REPORT, SUMMARY_LINE, type ContractMode, type LogLine } from "./contract.js";
export { allPassed, formatTable, tally, type CheckResult, type Verdict } from "./results.js";
export { hostKitResults, runOnHost, HOST_KIT_ARGS, HOST_KIT_LIMITS, type HostRun } from "./host-kit.js";
export { runOnSessionHost, type SessionHostOptions } from "./session-host.js";
