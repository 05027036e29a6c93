/**
 * The files of a new guest project (`zkguest init`): a controller, a mocha test that runs it
 * against an in-process host, and what builds and tests them. Pure text; init.ts writes it.
 */

/** How the project refers to each zkguest package: a version range, or a `file:` path inside this repository. */
export interface ZkguestDependencies {
  readonly guestSdk: string;
  readonly hostSdk: string;
  readonly cli: string;
}

/** The tools the project's tests use; the same versions as this repository's (a test checks it). */
export const TOOL_VERSIONS = {
  "@types/chai": "^5.2.3",
  "@types/mocha": "^10.0.10",
  "@types/node": "^20.19.0",
  chai: "^5.2.0",
  mocha: "^11.7.0",
  typescript: "5.9.3",
} as const;

/** Where the controller stores its proof; the test and the README read it back from there. */
const PROOF_PATH = "/var/share/proof.bin";
const EXAMPLE_ARGS = '{"numbers":[1,2,3]}';

export function scaffoldFiles(name: string, deps: ZkguestDependencies): Record<string, string> {
  return {
    "package.json": packageJson(name, deps),
    "tsconfig.json": TSCONFIG,
    "controller.ts": CONTROLLER,
    "test/tsconfig.json": TEST_TSCONFIG,
    "test/controller.test.ts": controllerTest(name),
    "README.md": readme(name),
    ".gitignore": "node_modules/\ndist/\n*.zkg\n*.img\n",
  };
}

function packageJson(name: string, deps: ZkguestDependencies): string {
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: {
      build: `zkguest build controller.ts -o ${name}.zkg`,
      test: "tsc -p . && tsc -p test && mocha 'dist/test/**/*.test.js'",
      start: `zkguest build controller.ts -o ${name}.zkg && zkguest run ${name}.zkg --args '${EXAMPLE_ARGS}' --image ${name}.img`,
    },
    dependencies: { "@zkguest/guest-sdk": deps.guestSdk },
    devDependencies: { "@zkguest/host-sdk": deps.hostSdk, zkguest: deps.cli, ...TOOL_VERSIONS },
  };
  return JSON.stringify(pkg, null, 2) + "\n";
}

/**
 * The controller's tsconfig describes the sandbox it runs in: ECMAScript and the guest SDK's
 * sandbox globals (TextEncoder, TextDecoder, console), no Node or DOM types, so that Buffer,
 * process, require or setTimeout are compile errors. It only type-checks: `zkguest build`
 * bundles the controller.
 */
const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2022"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: ["@zkguest/guest-sdk/sandbox"],
    },
    include: ["controller.ts"],
  },
  null,
  2,
)}\n`;

/** The tests run under Node (mocha), with Node's types, and are compiled to dist/test. */
const TEST_TSCONFIG = `${JSON.stringify(
  {
    extends: "../tsconfig.json",
    compilerOptions: { noEmit: false, rootDir: ".", outDir: "../dist/test", types: ["node", "mocha"] },
    include: ["."],
  },
  null,
  2,
)}\n`;

const CONTROLLER = `import { defineController, encodeUtf8, fs, log } from "@zkguest/guest-sdk";

/** The request's arguments: the numbers whose sum the circuit proves. */
type Args = { numbers: number[] };

/**
 * Where the proof goes on the program's disk. Every path component is a FAT 8.3 name: at most
 * 8 characters, then at most 3 after the dot ("proof.json" is refused with invalid_name).
 */
const PROOF_PATH = "${PROOF_PATH}";

export default defineController<Args>({
  // Runs in the sandbox: no Node API, no clock, no randomness. The same arguments give the
  // same witnesses, byte for byte.
  getWitnesses(args) {
    const numbers = args?.numbers;
    if (!Array.isArray(numbers) || !numbers.every((n) => typeof n === "number")) {
      throw new TypeError("args.numbers must be an array of numbers");
    }
    const sum = numbers.reduce((a, b) => a + b, 0);
    log.info("computing witnesses", { count: numbers.length, sum });
    return [{ type: "data", data: encodeUtf8(JSON.stringify({ numbers, sum })) }];
  },

  // Called when proving has ended, successfully or not.
  entrypoint(result) {
    if (!result.success || !result.proof) {
      log.error("proving failed", { code: result.error?.code ?? "internal" });
      return;
    }
    const stat = fs.store(PROOF_PATH, result.proof);
    log.info("proof stored", { path: PROOF_PATH, bytes: stat.size });
  },
});
`;

function controllerTest(name: string): string {
  return `import { testHost } from "@zkguest/host-sdk/testing";
import { expect } from "chai";
import { fileURLToPath } from "node:url";
import { buildArtifact } from "zkguest";

// Runs the controller through the whole lifecycle (witness step, dev prover, entrypoint) on an
// in-process host with the same sandbox, limits and FAT-16 disk as the real one.
const CONTROLLER = fileURLToPath(new URL("../../controller.ts", import.meta.url));

describe("${name} controller", function () {
  this.timeout(30_000);
  let guest: { bytes: Uint8Array };

  before(async () => {
    guest = await buildArtifact(CONTROLLER, "${name}");
  });

  after(() => testHost.close());

  it("proves and stores the proof on the program's disk", async () => {
    const run = await testHost.prove(guest, { numbers: [1, 2, 3] });
    expect(run.status, run.error?.message).to.equal("proved");
    expect(run.logs.map((l) => l.message)).to.include.members(["computing witnesses", "proof stored"]);
    expect(Buffer.from(await run.readFile("${PROOF_PATH}")).equals(Buffer.from(run.proof!))).to.equal(true);
  });

  it("gives the same witnesses for the same arguments", async () => {
    const a = await testHost.execute(guest, { numbers: [4, 5] });
    const b = await testHost.execute(guest, { numbers: [4, 5] });
    expect(a.status).to.equal("executed");
    expect(a.witnessesHash).to.equal(b.witnessesHash);
  });

  it("fails with guest_error on bad arguments", async () => {
    const run = await testHost.prove(guest, { numbers: "nope" });
    expect(run.status).to.equal("failed");
    expect(run.error?.code).to.equal("guest_error");
    expect(run.error?.message).to.include("args.numbers must be an array of numbers");
  });
});
`;
}

function readme(name: string): string {
  return `# ${name}

A zkguest guest program: \`controller.ts\` computes the witnesses from the request's arguments
and, once proved, stores the proof at \`${PROOF_PATH}\` on the program's own FAT-16 disk.

\`\`\`sh
npm install
npm run build    # zkguest build controller.ts -o ${name}.zkg
npm test         # type-checks, then runs the controller against an in-process host
npm start        # builds, then zkguest run ${name}.zkg --args '${EXAMPLE_ARGS}' --image ${name}.img
\`\`\`

After \`npm start\`, the proof is on the disk image: \`npx zkguest fs cat ${name}.img ${PROOF_PATH} | xxd\`.

See the zkguest guide for guest authors (docs/guest-authors.md in the zkguest repository).
`;
}
