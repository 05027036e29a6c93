import { ERROR_CODES } from "@zkguest/protocol";
import { JOB_STATUSES } from "../backend.js";
import { JOB_ID_PATTERN, PROGRAM_ID_PATTERN } from "../ids.js";

// The API's JSON Schemas: request validation and the OpenAPI document's components, from one
// place. Enumerations come from where they are defined (error codes, job statuses, id shapes).

const hex = { type: "string", pattern: "^([0-9a-f]{2})*$", description: "bytes, as lower-case hex" } as const;
const milliseconds = { type: "number", description: "milliseconds, rounded to the microsecond (at most 3 decimals)" } as const;
const errorCode = { type: "string", enum: [...ERROR_CODES] } as const;

/** The longest idempotency key (printable ASCII). */
export const MAX_IDEMPOTENCY_KEY = 255;
/** The longest wait a long poll may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 60;

export const SCHEMAS = [
  {
    $id: "Problem",
    type: "object",
    description: "An error (RFC 9457 problem details); `code` is one of the protocol's error codes (protocol/SPEC.md §7).",
    required: ["type", "title", "status", "code", "detail"],
    properties: {
      type: { type: "string", description: "urn:zkguest:error:<code>" },
      title: { type: "string", description: "the HTTP status's reason phrase" },
      status: { type: "integer" },
      code: errorCode,
      detail: { type: "string", description: "the cause and the rule that was broken" },
    },
  },
  {
    $id: "Deployed",
    type: "object",
    required: ["id"],
    properties: { id: { type: "string", pattern: PROGRAM_ID_PATTERN, description: "the program id: the SHA-256 of the guest's code" } },
  },
  {
    $id: "RunRequest",
    type: "object",
    required: ["args"],
    additionalProperties: false,
    properties: { args: { description: "the request's arguments: any JSON value (nested at most 64 deep)" } },
  },
  {
    $id: "JobAccepted",
    type: "object",
    required: ["job"],
    properties: { job: { type: "string", pattern: JOB_ID_PATTERN } },
  },
  {
    $id: "RunError",
    type: "object",
    required: ["code", "message"],
    properties: {
      code: errorCode,
      message: { type: "string" },
      limit: { type: "string", enum: ["memory", "stack", "time", "frame_size", "log_bytes", "host_calls", "storage"] },
      stack: { type: "string", description: "the guest's stack, when it threw or trapped" },
    },
  },
  {
    $id: "Report",
    type: "object",
    description: "A run's report (docs/host-integrators.md, 'The report'), bytes as lower-case hex.",
    required: ["program", "status", "witnessesHash", "witnesses", "logs", "files", "resources"],
    properties: {
      program: { type: "string", pattern: PROGRAM_ID_PATTERN },
      status: { type: "string", enum: ["proved", "executed", "failed"] },
      error: { $ref: "RunError#" },
      witnessesHash: { type: "string", pattern: "^[0-9a-f]{64}$" },
      witnesses: {
        type: "array",
        items: {
          type: "object",
          required: ["type"],
          properties: {
            type: { type: "string", enum: ["data", "state_proof"] },
            data: hex,
            domain: { type: "string" },
            root: hex,
            payload: hex,
            proof: hex,
          },
        },
      },
      proof: hex,
      logs: {
        type: "array",
        items: {
          type: "object",
          required: ["phase", "source", "level", "message"],
          properties: {
            phase: { type: "string", enum: ["witness", "entrypoint"] },
            source: { type: "string", enum: ["guest", "host"] },
            level: { type: "string", enum: ["debug", "info", "warn", "error"] },
            message: { type: "string" },
            fields: { type: "object", description: "the log line's fields (bytes as hex)" },
            stack: { type: "string" },
          },
        },
      },
      files: {
        type: "array",
        items: { type: "object", required: ["path", "bytes"], properties: { path: { type: "string" }, bytes: { type: "integer" } } },
      },
      resources: {
        type: "object",
        required: ["witnessMs", "proveMs", "entrypointMs", "peakMemoryBytes", "hostCalls", "bytesStored"],
        properties: {
          witnessMs: milliseconds,
          proveMs: milliseconds,
          entrypointMs: milliseconds,
          peakMemoryBytes: { type: "integer" },
          hostCalls: { type: "integer" },
          bytesStored: { type: "integer" },
        },
      },
    },
  },
  {
    $id: "Executed",
    type: "object",
    required: ["report"],
    properties: { report: { $ref: "Report#" } },
  },
  {
    $id: "Job",
    type: "object",
    required: ["job", "program", "status"],
    properties: {
      job: { type: "string", pattern: JOB_ID_PATTERN },
      program: { type: "string", pattern: PROGRAM_ID_PATTERN },
      status: { type: "string", enum: [...JOB_STATUSES] },
      report: { $ref: "Report#" },
      error: { type: "object", required: ["code", "message"], properties: { code: errorCode, message: { type: "string" } } },
    },
  },
  {
    $id: "Listing",
    type: "object",
    required: ["path", "entries"],
    properties: {
      path: { type: "string" },
      entries: {
        type: "array",
        items: {
          type: "object",
          required: ["name", "type", "size", "modified"],
          properties: {
            name: { type: "string", description: "the stored 8.3 name, upper-case" },
            type: { type: "string", enum: ["file", "dir"] },
            size: { type: "integer" },
            modified: { type: "string", description: "YYYY-MM-DDTHH:MM:SS" },
          },
        },
      },
    },
  },
] as const;

const ref = (id: (typeof SCHEMAS)[number]["$id"]) => ({ $ref: `${id}#` });

/** The error responses a route documents, each a Problem. */
export function problems(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(statuses.map((s) => [s, { description: "an error", content: { "application/problem+json": { schema: ref("Problem") } } }]));
}

export const programParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", pattern: PROGRAM_ID_PATTERN, description: "the program id" } },
} as const;

export const jobParams = {
  type: "object",
  required: ["job"],
  properties: { job: { type: "string", pattern: JOB_ID_PATTERN } },
} as const;

export { ref };
