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
