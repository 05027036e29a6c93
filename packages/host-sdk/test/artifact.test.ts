import { encode as encodeMsgpack } from "@msgpack/msgpack";
import { expect } from "chai";
import { ZkguestError } from "@zkguest/protocol";
import { createArtifact, programIdOf, readArtifact } from "../src/artifact.js";

const input = { name: "hello", engine: "js" as const, code: new TextEncoder().encode("globalThis.x = 1;"), protocol: { min: [1, 0] as const, max: [1, 0] as const } };

function readError(bytes: Uint8Array): ZkguestError {
  try {
    readArtifact(bytes);
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
});
