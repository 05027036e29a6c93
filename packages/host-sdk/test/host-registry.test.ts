import { expect } from "chai";
import { either as E } from "fp-ts";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { Volume } from "@zkguest/fat16";
import { createArtifact } from "../src/artifact.js";
import { DevProver, readDevProof } from "../src/prover/dev-prover.js";
import { DirectoryRegistry } from "../src/registry/directory-registry.js";
import { tempDir } from "./host-fixtures.js";

describe("host: registry and dev prover", () => {
  const artifact = createArtifact({ name: "x", engine: "js", code: new TextEncoder().encode("export {};"), protocol: { min: [1, 0], max: [1, 0] } });
  const id = artifact.artifact.manifest.id;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir("zkguest-registry-");
  });
  afterEach(() => tmp.remove());

  it("DirectoryRegistry: put is idempotent, get reads back, unknown ids are undefined", async () => {
    const registry = new DirectoryRegistry(tmp.dir);
    expect((await registry.put(artifact.bytes)).manifest.id).to.equal(id);
    expect((await registry.put(artifact.bytes)).manifest.id).to.equal(id);
    expect((await registry.get(id))?.code).to.deep.equal(artifact.artifact.code);
    expect(await registry.get("f".repeat(64))).to.equal(undefined);
    expect(readdirSync(path.join(tmp.dir, "programs"))).to.deep.equal([`${id}.zkg`]);
  });

  it("DirectoryRegistry: a disk is formatted once, on first use, at the configured size", async () => {
    const registry = new DirectoryRegistry(tmp.dir, { diskBytes: 4 * 1024 * 1024 });
    const image = await registry.diskImage(id);
    expect(statSync(image).size).to.equal(4 * 1024 * 1024);
    const volume = Volume.open(image);
    volume.writeFile("/keep.txt", "kept");
    volume.close();
    expect(await registry.diskImage(id)).to.equal(image);
    const again = Volume.open(image, { readOnly: true });
    expect(new TextDecoder().decode(again.readFile("/keep.txt"))).to.equal("kept");
    again.close();
    expect(readdirSync(path.join(tmp.dir, "disks"))).to.deep.equal([`${id}.img`]);
  });

  it("DirectoryRegistry: ids that are not 64 hex digits are refused before touching a file", async () => {
    const registry = new DirectoryRegistry(tmp.dir);
    for (const bad of ["../../etc/passwd", `${id}/..`, id.toUpperCase(), ""]) {
      expect(await registry.get(bad).catch((e: unknown) => e)).to.have.property("code", "not_found");
      expect(await registry.diskImage(bad).catch((e: unknown) => e)).to.have.property("code", "not_found");
    }
    expect(() => new DirectoryRegistry(tmp.dir, { diskBytes: 1000 })).to.throw(RangeError);
  });

  it("DevProver: deterministic, marked dev, bound to the program and the witnesses", async () => {
    const prover = new DevProver({ devMode: true });
    const program = { id, manifest: artifact.artifact.manifest };
    const witnesses = [{ type: "data" as const, data: new Uint8Array([1, 2, 3]) }];
    const a = await prover.prove(witnesses, program);
    const b = await prover.prove([{ data: new Uint8Array([1, 2, 3]), type: "data" }], program);
    expect(E.isRight(a) && E.isRight(b) && a.right).to.deep.equal(E.isRight(b) && b.right);
    const proof = E.isRight(a) ? a.right : new Uint8Array();
    expect(readDevProof(proof)).to.deep.include({ _tag: "Right" });
    expect(E.isRight(readDevProof(proof)) && (readDevProof(proof) as E.Right<{ dev: boolean; program: string }>).right).to.deep.include({ dev: true, program: id });
    expect(E.isRight(await prover.verify(proof, program, witnesses))).to.equal(true);
    const other = { ...program, id: "e".repeat(64) };
    expect(E.isLeft(await prover.verify(proof, other))).to.equal(true);
    expect(E.isLeft(await prover.verify(proof, program, [{ type: "data", data: new Uint8Array([9]) }]))).to.equal(true);
    expect(E.isLeft(await new DevProver().verify(proof, program, witnesses)), "refused outside dev mode").to.equal(true);
    expect(E.isLeft(await prover.verify(new Uint8Array([0xc1]), program))).to.equal(true);
  });
});
