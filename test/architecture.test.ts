import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// The layering the codebase promises (README "Layout"): dependencies point one way, and the
// guest SDK runs inside the sandbox, so it must not touch any Node API.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ALLOWED: Record<string, string[]> = {
  "@zkguest/protocol": [],
  "@zkguest/guest-sdk": ["@zkguest/protocol"],
  "@zkguest/fat16": ["@zkguest/protocol"],
  "@zkguest/host-sdk": ["@zkguest/protocol", "@zkguest/fat16"],
  "@zkguest/prover-groth16": ["@zkguest/protocol", "@zkguest/host-sdk"],
  "@zkguest/server": ["@zkguest/protocol", "@zkguest/fat16", "@zkguest/host-sdk"],
  zkguest: ["@zkguest/protocol", "@zkguest/fat16", "@zkguest/host-sdk", "@zkguest/guest-sdk", "@zkguest/prover-groth16", "@zkguest/server"],
};

function packageDirs(): string[] {
  const dir = path.join(root, "packages");
  return readdirSync(dir).map((d) => path.join(dir, d)).filter((d) => statSync(path.join(d, "package.json"), { throwIfNoEntry: false }));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

const importsOf = (file: string) => [...readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]!);

describe("architecture", () => {
  for (const dir of packageDirs()) {
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name: string } & Partial<Record<"dependencies" | "peerDependencies" | "optionalDependencies", Record<string, string>>>;
    it(`${pkg.name} depends only on the packages below it`, () => {
      expect(Object.keys(ALLOWED), "every package has a place in the layering").to.include(pkg.name);
      const declared = { ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies };
      const ours = Object.keys(declared).filter((d) => d in ALLOWED);
      for (const dep of ours) expect(ALLOWED[pkg.name], `${pkg.name} -> ${dep}`).to.include(dep);
      for (const file of sourceFiles(path.join(dir, "src"))) {
        for (const spec of importsOf(file)) {
          if (spec in ALLOWED && spec !== pkg.name) expect(ALLOWED[pkg.name], `${path.relative(root, file)} imports ${spec}`).to.include(spec);
        }
      }
    });
  }

  it("the guest SDK and the protocol use no Node API (they run inside the sandbox)", () => {
    for (const name of ["guest-sdk", "protocol"]) {
      for (const file of sourceFiles(path.join(root, "packages", name, "src"))) {
        const nodeImports = importsOf(file).filter((s) => s.startsWith("node:") || ["fs", "path", "os", "child_process", "worker_threads"].includes(s));
        expect(nodeImports, path.relative(root, file)).to.deep.equal([]);
        expect(readFileSync(file, "utf8"), path.relative(root, file)).not.to.match(/\b(process|Buffer|require)\s*[.(]/);
      }
    }
  });
});
