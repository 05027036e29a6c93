import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO, zkguest } from "./cli-process.js";

/** The commands `zkguest help` lists. */
function listedCommands(): string[] {
  const r = zkguest(["help"]);
  expect(r.status).to.equal(0);
  return [...r.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!);
}

describe("zkguest --help, help CMD, --version", function () {
  this.timeout(120_000);

  it("every command and subcommand prints its usage on --help, -h and 'help CMD', and exits 0", () => {
    const commands = listedCommands();
    expect(commands).to.include.members(["build", "run", "verify", "setup", "export-verifier", "init", "demo", "conformance", "fs", "protocol", "serve", "remote", "worker", "inspect"]);
    for (const name of commands) {
      const viaHelp = zkguest(["help", name]);
      expect(viaHelp.status, `help ${name}: ${viaHelp.stderr}`).to.equal(0);
      expect(viaHelp.stdout, `help ${name}`).to.match(new RegExp(`^usage:\\s+zkguest ${name}\\b`));
      for (const argv of [[name, "--help"], [name, "some-argument", "-h"]]) {
        const r = zkguest(argv);
        expect(r.status, `${argv.join(" ")}: ${r.stderr}`).to.equal(0);
        expect(r.stdout, argv.join(" ")).to.equal(viaHelp.stdout);
        expect(r.stderr, argv.join(" ")).to.equal("");
      }
    }
    // A subcommand's --help is its command's usage, whatever else is on the line.
    for (const argv of [["fs", "ls", "x.img", "--help"], ["remote", "prove", "ID", "--help"], ["protocol", "decode", "--help"], ["conformance", "guest", "-h"], ["run", "--bogus", "--help"]]) {
      const r = zkguest(argv);
      expect(r.status, argv.join(" ")).to.equal(0);
      expect(r.stdout, argv.join(" ")).to.match(new RegExp(`^usage:\\s+zkguest ${argv[0]}\\b`));
    }
  });

  it("--version prints the CLI package's version", () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO, "packages/cli/package.json"), "utf8")) as { version: string };
    const r = zkguest(["--version"]);
    expect(r.status).to.equal(0);
    expect(r.stdout).to.equal(`${version}\n`);
  });

  it("a usage error is one line on stderr, exit 2, for every command (fs and protocol included)", () => {
    const cases = [["fs"], ["fs", "frobnicate"], ["fs", "ls"], ["protocol"], ["protocol", "frobnicate", "x"], ["protocol", "decode"], ["remote"], ["conformance"], ["run"], ["build", "--bogus"], ["help", "bogus"], ["help", "run", "build"], ["inspect"]];
    for (const argv of cases) {
      const r = zkguest(argv);
      expect(r.status, argv.join(" ")).to.equal(2);
      expect(r.stdout, argv.join(" ")).to.equal("");
      expect(r.stderr, argv.join(" ")).to.match(/^zkguest: usage: [^\n]+\n$/);
    }
    expect(zkguest(["protocol"]).stderr).to.equal("zkguest: usage: protocol takes 'decode HEX|-' or 'encode JSON|-' (see 'zkguest help protocol')\n");
  });
});
