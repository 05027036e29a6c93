import { encode as encodeMsgpack } from "@msgpack/msgpack";
import { expect } from "chai";
import { ZkguestError } from "@zkguest/protocol";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createArtifact, MAX_ARTIFACT_BYTES, programIdOf, readArtifact, readArtifactFile } from "../src/artifact.js";
import { DevProver } from "../src/prover/dev-prover.js";
import { MAX_SOURCE_MAP_BYTES } from "../src/source-map/map.js";
import { DirectoryRegistry } from "../src/registry/directory-registry.js";

const input = { name: "hello", engine: "js" as const, code: new TextEncoder().encode("globalThis.x = 1;"), protocol: { min: [1, 0] as const, max: [1, 0] as const } };

/** `bytes` of one-element arrays nested as deep as they go (`[[[...[nil]...]]]`). */
function nestedArrays(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes).fill(0x91);
  out[bytes - 1] = 0xc0;
  return out;
}

function readError(bytes: Uint8Array): ZkguestError {
  return thrown(() => readArtifact(bytes));
}

function thrown(f: () => unknown): ZkguestError {
  try {
    f();
  } catch (e) {
    if (e instanceof ZkguestError) return e;
    throw e;
  }
  throw new Error("expected readArtifact to fail");
}

describe("artifact", () => {
  it("round-trips, with the program id the SHA-256 of the code", () => {
    const { artifact, bytes } = createArtifact(input);
    expect(artifact.manifest.id).to.equal(programIdOf(input.code)).and.to.match(/^[0-9a-f]{64}$/);
    expect(readArtifact(bytes)).to.deep.equal(artifact);
  });

  it("carries an optional circuit: the program id covers it, and the manifest names its format and SHA-256", () => {
    const circuit = { format: "zkguest-circom/1", bytes: new Uint8Array([1, 2, 3]) };
    const { artifact, bytes } = createArtifact({ ...input, circuit });
    expect(readArtifact(bytes)).to.deep.equal(artifact);
    expect(artifact.circuit).to.deep.equal(circuit.bytes);
    expect(artifact.manifest.circuit).to.deep.equal({ format: "zkguest-circom/1", sha256: "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81" });
    expect(artifact.manifest.id).to.equal(programIdOf(input.code, circuit.bytes));
    // The same code with another circuit, or none, is another program.
    expect(programIdOf(input.code, new Uint8Array([1, 2, 4]))).to.not.equal(artifact.manifest.id);
    expect(programIdOf(input.code)).to.not.equal(artifact.manifest.id);
  });

  it("refuses a circuit that does not match its manifest, or is missing on either side", () => {
    const { artifact } = createArtifact({ ...input, circuit: { format: "zkguest-circom/1", bytes: new Uint8Array([1, 2, 3]) } });
    expect(readError(encodeMsgpack({ ...artifact, circuit: new Uint8Array([1, 2, 4]) })).message).to.match(/the manifest's circuit sha256 [0-9a-f]{64} is not the circuit's [0-9a-f]{64}/);
    const { circuit: _dropped, ...without } = artifact;
    expect(readError(encodeMsgpack(without)).message).to.match(/names a circuit the artifact does not carry/);
    const plain = createArtifact(input).artifact;
    expect(readError(encodeMsgpack({ ...plain, circuit: new Uint8Array([1]) })).message).to.match(/carries a circuit its manifest does not name/);
    const { circuit: _c, ...manifestOnly } = artifact.manifest;
    expect(readError(encodeMsgpack({ ...artifact, manifest: manifestOnly })).message).to.match(/carries a circuit its manifest does not name/);
  });

  it("carries an optional source map: the program id covers it, so that it cannot be swapped under the program", () => {
    const sourceMap = new TextEncoder().encode('{"version":3,"sources":["controller.ts"],"names":[],"mappings":"AAAA"}');
    const { artifact, bytes } = createArtifact({ ...input, sourceMap });
    expect(readArtifact(bytes)).to.deep.equal(artifact);
    expect(artifact.sourceMap).to.deep.equal(sourceMap);
    expect(artifact.manifest.id).to.equal(programIdOf(input.code, undefined, sourceMap)).and.not.to.equal(programIdOf(input.code));
    // With a circuit too; and a map is never taken for a circuit, nor the other way round.
    const circuit = { format: "zkguest-circom/1", bytes: new Uint8Array([1, 2, 3]) };
    expect(createArtifact({ ...input, circuit, sourceMap }).artifact.manifest.id).to.equal(programIdOf(input.code, circuit.bytes, sourceMap));
    expect(programIdOf(input.code, undefined, sourceMap)).not.to.equal(programIdOf(input.code, sourceMap));
    const swapped = encodeMsgpack({ ...artifact, sourceMap: new TextEncoder().encode('{"version":3,"sources":["elsewhere.ts"],"names":[],"mappings":"AAAA"}') });
    expect(readError(swapped).message).to.match(/the manifest's id [0-9a-f]{64} is not the program id of its code and source map [0-9a-f]{64}/);
    const { sourceMap: _dropped, ...without } = artifact;
    expect(readError(encodeMsgpack(without)).message).to.match(/is not the code's SHA-256/);
  });

  it("refuses a source map over the limit when it is made and when it is read, before hashing it", () => {
    const sourceMap = new Uint8Array(MAX_SOURCE_MAP_BYTES + 1).fill(0x20);
    const made = thrown(() => createArtifact({ ...input, sourceMap }));
    expect(made.code).to.equal("limit_exceeded");
    expect(made.message).to.equal(`the source map is ${MAX_SOURCE_MAP_BYTES + 1} bytes, the limit is ${MAX_SOURCE_MAP_BYTES}`);
    const { artifact } = createArtifact(input);
    const e = readError(encodeMsgpack({ ...artifact, sourceMap }));
    expect(e.code).to.equal("malformed_frame");
    expect(e.message).to.equal(`not a zkguest artifact: the source map is ${MAX_SOURCE_MAP_BYTES + 1} bytes, the limit is ${MAX_SOURCE_MAP_BYTES}`);
  });

  it("refuses a manifest whose id does not match the code", () => {
    const { artifact } = createArtifact(input);
    const tampered = encodeMsgpack({ ...artifact, code: new TextEncoder().encode("globalThis.x = 2;") });
    expect(readError(tampered).message).to.match(/not the code's SHA-256/);
  });

  it("refuses garbage, wrong fields and a later format with typed errors", () => {
    expect(readError(new Uint8Array([0xc1])).code).to.equal("malformed_frame");
    expect(readError(encodeMsgpack({ format: "zkguest-artifact/1", manifest: {}, code: new Uint8Array() })).message).to.contain("manifest");
    expect(readError(encodeMsgpack({ format: "zkguest-artifact/2" })).code).to.equal("unsupported_version");
  });

  // Decoded on the host's main thread: a hostile file must be refused where its shape goes
  // wrong, not after building it (nested arrays of 4 MiB took seconds and 16 MiB gigabytes).
  it("refuses nested arrays of 4, 16 and 60 MiB at their fifth byte", () => {
    for (const mib of [4, 16, 60]) {
      const e = readError(nestedArrays(mib * 1024 * 1024));
      expect(e.code).to.equal("malformed_frame");
      expect(e.message).to.equal("not a zkguest artifact: byte 5: containers nested deeper than 4 levels");
    }
  });

  it("refuses other shapes that would take time or memory at the header that breaks the artifact's bounds", () => {
    const { artifact } = createArtifact(input);
    const cases: [unknown, string][] = [
      [{ ...artifact, manifest: { ...artifact.manifest, name: new Array(1_000_000).fill(0) } }, "more than 64 items"],
      [{ ...artifact, manifest: { ...artifact.manifest, name: "n".repeat(10_000_000) } }, "a str of 10000000 bytes, more than 1024"],
      [{ ...artifact, extra: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])) }, "more than 64 items"],
    ];
    for (const [value, why] of cases) expect(readError(encodeMsgpack(value)).message).to.contain(why);
  });

  it("reads the largest code there is room for, and refuses a file over the limit before reading it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-artifact-"));
    try {
      const big = createArtifact({ ...input, code: new Uint8Array(MAX_ARTIFACT_BYTES - 1024).fill(0x61) });
      const file = path.join(dir, "big.zkg");
      fs.writeFileSync(file, big.bytes);
      expect(readArtifactFile(file).artifact.manifest.id).to.equal(big.artifact.manifest.id);
      // Sparse: a 1 TiB file costs nothing to make, and would take forever to read.
      const huge = path.join(dir, "huge.zkg");
      fs.writeFileSync(huge, "");
      fs.truncateSync(huge, 2 ** 40);
      expect(thrown(() => readArtifactFile(huge)).message).to.equal(`not a zkguest artifact: ${huge} has ${2 ** 40} bytes, the limit is ${MAX_ARTIFACT_BYTES}`);
      expect(thrown(() => readArtifactFile(path.join(dir, "none.zkg"))).code).to.equal("not_found");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a registry refuses the hostile file on put, and one put in its directory on get", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-artifact-"));
    try {
      const registry = new DirectoryRegistry(dir);
      const nested = nestedArrays(16 * 1024 * 1024);
      expect(await registry.put(nested).catch((e: unknown) => e)).to.have.property("code", "malformed_frame");
      const id = "a".repeat(64);
      fs.writeFileSync(path.join(dir, "programs", `${id}.zkg`), nested);
      expect(await registry.get(id).catch((e: unknown) => e)).to.have.property("code", "malformed_frame");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the dev prover refuses a proof of another shape without building it", async () => {
    const program = { id: "a".repeat(64), manifest: createArtifact(input).artifact.manifest };
    const verdict = await new DevProver({ devMode: true }).verify(nestedArrays(16 * 1024 * 1024), program);
    expect(verdict).to.deep.equal({ _tag: "Left", left: { code: "malformed_frame", message: "not a zkguest proof: byte 2: containers nested deeper than 1 levels" } });
  });
});
