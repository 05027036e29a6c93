/** `@zkguest/host-sdk/testing`: an in-process host for guest authors' tests (README "Conformance"). */
export { testHost, TestHost, type TestGuest, type TestHostOptions, type TestRun, type TestRunOptions } from "./test-host.js";
