import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { scaffoldFiles } from "../src/scaffold.js";
import { REPO, tempDir, writeFiles } from "./cli-process.js";

// The scaffold's tsconfig describes the sandbox: what a controller cannot use there is a
// compile error, what it can (ECMAScript, the sandbox's globals, the SDK) compiles.

/** "Cannot find name 'X'", in its variants (plain, "install @types/node", "change your lib"). */
const CANNOT_FIND_NAME = [2304, 2580, 2582, 2583, 2584, 2591, 2592, 2593];

describe("zkguest init: the controller's tsconfig describes the sandbox", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = tempDir("scaffold-types");
    writeFiles(dir, scaffoldFiles("types", { guestSdk: "*", hostSdk: "*", cli: "*" }));
    // The repository's node_modules stands in for `npm install` (its @zkguest packages are the workspace's).
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"), "dir");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Type-checks `controller` as the project's controller.ts: the errors, as "line: TScode". */
  function typeCheck(controller: string): string[] {
    fs.writeFileSync(path.join(dir, "controller.ts"), controller);
    const config = ts.getParsedCommandLineOfConfigFile(path.join(dir, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => expect.fail(String(d.messageText)) })!;
    expect(config.errors).to.deep.equal([]);
    const program = ts.createProgram(config.fileNames, config.options);
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return `${line}: TS${d.code}`;
    });
  }

  it("compiles the scaffold's own controller", () => {
    expect(typeCheck(scaffoldFiles("types", { guestSdk: "*", hostSdk: "*", cli: "*" })["controller.ts"]!)).to.deep.equal([]);
  });

  it("compiles what the sandbox has: TextEncoder, TextDecoder, console, the SDK's hashes, an interface for the arguments", () => {
    const errors = typeCheck(`import { defineController, keccak256, sha256 } from "@zkguest/guest-sdk";
interface Args { text: string; count?: number }
export default defineController<Args>({
  getWitnesses(args) {
    const bytes = new TextEncoder().encode(args.text);
    const text: string = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes, { stream: false });
    const { read, written } = new TextEncoder().encodeInto(text, new Uint8Array(8));
    console.log(text, read + written);
    const digests: Uint8Array[] = [sha256(bytes), keccak256("text")];
    return digests.map((data) => ({ type: "data", data }));
  },
  entrypoint(result) {
    console.warn(result.args.count ?? 0);
  },
});
`);
    expect(errors).to.deep.equal([]);
  });

  it("refuses Node's and the browser's globals: Buffer, process, require, setTimeout, fetch, document", () => {
    const lines = ['Buffer.from("x");', "process.exit(1);", 'require("node:fs");', "setTimeout(() => {}, 1);", 'fetch("https://example.org");', "document.title;"];
    const errors = typeCheck(`export {};\n${lines.join("\n")}\n`);
    expect(errors.map((e) => Number(e.split(": ")[0]))).to.deep.equal([2, 3, 4, 5, 6, 7]);
    for (const e of errors) expect(CANNOT_FIND_NAME, e).to.include(Number(e.split("TS")[1]));
  });
});
