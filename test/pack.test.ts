import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

// The packages as a user gets them: `npm pack` tarballs installed with npm into a new project
// under the OS's temp dir, far from this checkout, then the CLI's everyday commands run there.
// One install serves every check. The project is an npm workspace root, so that the project
// `zkguest init` makes inside it installs against the same tarballs, offline: if init asked
// for versions other than the installed ones, npm would have to fetch them, and fails.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TOOLS = ["typescript", "mocha", "chai", "@types/chai", "@types/mocha", "@types/node"];
const NPM_FLAGS = ["--no-audit", "--no-fund", "--loglevel=error"];
const LICENSES: Record<string, RegExp> = { "Apache-2.0": /^\s*Apache License\s+Version 2\.0, January 2004/, "GPL-3.0-only": /^\s*GNU GENERAL PUBLIC LICENSE\s+Version 3, 29 June 2007/ };

interface Packed {
  readonly name: string;
  readonly version: string;
  readonly filename: string;
  readonly files: { path: string }[];
}

interface Ran {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of this run without npm's variables (`npm test` sets npm_package_*, the
 * repository's prefix, and passes its options on as npm_config_*, which npm and npx in the
 * project would take as their own), except the user's settings of where packages come from.
 */
const NPM_SETTINGS_KEPT = ["cache", "registry", "userconfig", "globalconfig", "cafile", "proxy", "https_proxy", "noproxy", "strict_ssl"].map((k) => `npm_config_${k}`);

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dropped = (k: string) => (/^npm_/i.test(k) && !NPM_SETTINGS_KEPT.includes(k.toLowerCase())) || k === "INIT_CWD";
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !dropped(k))), ...extra };
}

/** Runs a command that must succeed; a failure says what ran, where, and what it printed. */
function run(cwd: string, command: string, args: readonly string[], env: Record<string, string> = {}): Ran {
  const r = spawnSync(command, args, { cwd, env: cleanEnv(env), encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) {
    const tail = (text: string | null) => (text ?? "").trim().split("\n").slice(-30).join("\n");
    throw new Error(`\`${command} ${args.join(" ")}\` in ${cwd} exited ${r.status ?? r.signal ?? r.error?.message}\n--- stdout (end)\n${tail(r.stdout)}\n--- stderr (end)\n${tail(r.stderr)}`);
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Every file under `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).map((f) => path.join(dir, f)).filter((f) => statSync(f).isFile());
}

describe("npm pack tarballs, installed in a project outside the repository", function () {
  this.timeout(300_000);
  let dir: string;
  let project: string;
  let packed: Packed[];
  /** The installed CLI, by the executable npm linked (npx adds a second or so to each run). */
  const zkguest = (args: readonly string[], env: Record<string, string> = {}) => run(project, path.join(project, "node_modules/.bin/zkguest"), args, env);

  before(function () {
    const started = performance.now();
    dir = mkdtempSync(path.join(tmpdir(), "zkguest-pack-"));
    project = path.join(dir, "project");
    packed = JSON.parse(run(root, "npm", ["pack", "--workspaces", "--pack-destination", dir, "--json", ...NPM_FLAGS]).stdout) as Packed[];
    const rootPackage = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    const tools = TOOLS.map((name) => `${name}@${rootPackage.devDependencies[name]}`);
    mkdirSync(project);
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "pack-test", private: true, type: "module", workspaces: ["hello"] }));
    run(project, "npm", ["install", "--prefer-offline", ...NPM_FLAGS, ...packed.map((p) => path.join(dir, p.filename)), ...tools]);
    console.log(`      (packed and installed in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  });

  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("packs every package, each with its README and its licence's full text", () => {
    const workspaces = readdirSync(path.join(root, "packages")).map((d) => (JSON.parse(readFileSync(path.join(root, "packages", d, "package.json"), "utf8")) as { name: string }).name);
    expect(packed.map((p) => p.name).sort()).to.deep.equal(workspaces.sort());
    for (const p of packed) {
      const paths = p.files.map((f) => f.path);
      expect(paths, p.name).to.include.members(["README.md", "LICENSE", "package.json"]);
      expect(paths.filter((f) => f.startsWith("dist/test/")), `${p.name} ships its tests`).to.deep.equal([]);
      const installed = path.join(project, "node_modules", p.name);
      const { license } = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8")) as { license: string };
      expect(readFileSync(path.join(installed, "LICENSE"), "utf8"), `${p.name}'s LICENSE is the ${license} text`).to.match(LICENSES[license]!);
    }
  });

  it("ships nothing that reaches into the checkout", () => {
    for (const p of packed) {
      const installed = path.join(project, "node_modules", p.name);
      for (const file of filesUnder(installed).filter((f) => /\.(js|ts|json|map)$/.test(f))) {
        const text = readFileSync(file, "utf8");
        expect(text.includes(root), `${file} names the checkout ${root}`).to.equal(false);
        if (!file.endsWith(".js")) continue;
        // Files the code locates next to itself must be inside its own package (whether it ships
        // them is for the commands below to show: scaffold.js has such a URL in a template).
        for (const [, rel] of text.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)) {
          const target = path.resolve(path.dirname(file), rel!);
          expect(target === installed || target.startsWith(installed + path.sep), `${file} refers to ${rel}, outside ${p.name}`).to.equal(true);
        }
      }
    }
  });

  it("every entry point in each package's exports imports from the project", () => {
    const specifiers = packed.flatMap((p) => {
      const { exports } = JSON.parse(readFileSync(path.join(project, "node_modules", p.name, "package.json"), "utf8")) as { exports: Record<string, Record<string, string>> };
      // A types-only entry (@zkguest/guest-sdk/sandbox: the sandbox's globals) has nothing to import; tsc checks it in the init project.
      return Object.entries(exports).filter(([, conditions]) => "default" in conditions).map(([key]) => p.name + key.slice(1));
    });
    const script = `for (const s of ${JSON.stringify(specifiers)}) { const m = await import(s); if (Object.keys(m).length === 0) throw new Error(s + " exports nothing"); }`;
    run(project, process.execPath, ["--input-type=module", "-e", script]);
  });

  it("npx zkguest --version and --help", () => {
    const cli = packed.find((p) => p.name === "zkguest")!;
    expect(run(project, "npx", ["--no-install", "zkguest", "--version"]).stdout).to.equal(`${cli.version}\n`);
    expect(zkguest(["--help"]).stdout).to.match(/^usage: zkguest <command>/);
  });

  it("zkguest demo builds its shipped example, shows the witnesses, and keeps the disk image it names", () => {
    const out = zkguest(["demo", "--dir", "demo"]).stdout;
    expect(out).to.include("witnesses proved:\n  0  data  31 bytes: \"{\\\"numbers\\\":[3,5,8,13],\\\"sum\\\":29}\"");
    expect(out).to.include("The disk image is kept: zkguest fs ls demo/hello.img /var/share");
    // The image outlives the demo: the command it printed works.
    expect(zkguest(["fs", "ls", "demo/hello.img", "/var/share"]).stdout).to.match(/PROOF\.BIN/);
  });

  it("zkguest demo --groth16, with @zkguest/prover-groth16 installed, keeps its keys in the user's cache", () => {
    const cache = path.join(dir, "cache");
    const out = zkguest(["demo", "--groth16", "--dir", "groth16"], { XDG_CACHE_HOME: cache }).stdout;
    expect(out).to.match(/kept in .*cache\/zkguest\/demo-keys for the next run/);
    expect(out).to.include("snarkjs groth16 verify verification_key.json public.json proof.json: OK");
    expect(out).to.include('circuit input {"numbers":["3","5","8","13"],"request":"7"}');
    expect(readdirSync(path.join(cache, "zkguest", "demo-keys"))).to.not.be.empty;
    expect(readdirSync(path.join(project, "groth16")).sort()).to.deep.equal(["proof.json", "public.json", "sum.img", "verification_key.json"]);
  });

  it("zkguest conformance host runs the shipped reference guest", () => {
    const out = zkguest(["conformance", "host"]).stdout;
    expect(out).to.match(/\n\d+ checks: \d+ passed, 0 failed, 0 skipped\n$/);
  });

  it("zkguest conformance guest sends the golden vectors @zkguest/host-sdk ships", () => {
    const r = spawnSync(path.join(project, "node_modules/.bin/zkguest"), ["conformance", "guest", "node_modules/zkguest/dist/examples/hello-js/controller.ts", "--json"], { cwd: project, env: cleanEnv(), encoding: "utf8" });
    expect(r.stderr, "stderr").to.equal("");
    const rows = (JSON.parse(r.stdout) as { results: { check: string; result: string }[] }).results.filter((row) => row.check.startsWith("invalid frame: "));
    expect(rows.length, "checks of protocol/vectors/invalid.json").to.be.greaterThan(20);
    expect(rows.filter((row) => row.result !== "pass")).to.deep.equal([]);
  });

  it("zkguest init makes a project on the installed versions, whose npm test passes", () => {
    zkguest(["init", "hello"]);
    const hello = path.join(project, "hello");
    const pkg = JSON.parse(readFileSync(path.join(hello, "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const asked = { ...pkg.dependencies, ...pkg.devDependencies };
    const zkguestPackages = packed.filter((q) => q.name in asked);
    expect(zkguestPackages.map((q) => q.name).sort()).to.deep.equal(["@zkguest/guest-sdk", "@zkguest/host-sdk", "zkguest"]);
    for (const p of zkguestPackages) expect(asked[p.name], p.name).to.equal(p.version);
    // Offline: what the project asks for must be what is installed (a fetch would fail).
    run(project, "npm", ["install", "--offline", ...NPM_FLAGS]);
    expect(run(hello, "npm", ["test"]).stdout).to.match(/3 passing/);
  });
});
