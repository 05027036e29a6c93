import { expect } from "chai";
import * as esbuild from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { GUEST_BUNDLE_OPTIONS, guestEntrySource } from "../src/bundle.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

describe("guest SDK: what a guest bundle holds", () => {
  it("bundles a controller with only the SDK and the protocol's light entries (core, wire): no io-ts, fp-ts or @msgpack/msgpack", async () => {
    const out = await esbuild.build({
      ...GUEST_BUNDLE_OPTIONS,
      stdin: { contents: guestEntrySource("./examples/hello-js/controller.ts"), resolveDir: root, loader: "ts" },
      write: false,
      metafile: true,
    });
    const inputs = Object.keys(out.metafile!.inputs);
    expect(inputs.filter((i) => i.includes("node_modules"))).to.deep.equal([]);
    expect(inputs.filter((i) => i.startsWith("packages/protocol/")).sort()).to.deep.equal(
      ["core", "frame-defaults", "negotiate", "wire/circuit-input", "wire/frame-id", "wire/index", "wire/reader", "wire/utf8", "wire/writer", "zkguest-error"].map((m) => `packages/protocol/dist/src/${m}.js`),
    );
    const code = out.outputFiles![0]!.text;
    // The SDK keeps its own UTF-8 (smaller, and strict): the sandbox's codecs are compiled on first use (SPEC.md §11.1).
    expect(code).not.to.match(/TextEncoder|TextDecoder/);
    // QuickJS compiles about 7-10 KB per ms: the bundle is most of a first instance (later ones
    // restore a snapshot). The budget grew with 1.1's readable ids, proof.result rule, list pages
    // and error answers (issue 12), and the log's fast path (writeFrameEndingIn, isOkNil by
    // words: about 1.7 KB that took a host call from 27 us to 18, issue 13), and the conversion
    // of log fields (bigint, Date, Error, cycles: about 1.8 KB, issue 11).
    expect(code.length).to.be.below(24 * 1024);
  });

  it("writes an entry that serves the controller module's default export", () => {
    expect(guestEntrySource("./a b/controller.ts")).to.equal('import controller from "./a b/controller.ts";\nimport { serve } from "@zkguest/guest-sdk";\nserve(controller);\n');
  });
});
