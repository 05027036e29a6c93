import { expect } from "chai";
import { GuestOutput } from "../src/engine/wasi-output.js";
import { cutGuestText, joinGuestText, MAX_GUEST_TEXT_BYTES } from "../src/guest-text.js";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

describe("guest text: cut to MAX_GUEST_TEXT_BYTES, saying so", () => {
  it("keeps text that fits as it is", () => {
    expect(cutGuestText("short")).to.equal("short");
    const fits = "é".repeat(MAX_GUEST_TEXT_BYTES / 2);
    expect(cutGuestText(fits)).to.equal(fits);
  });

  it("cuts longer text on a character boundary and counts what it left out", () => {
    for (const unit of ["x", "é", "€", "😀"]) {
      const text = unit.repeat(MAX_GUEST_TEXT_BYTES + 1);
      const cut = cutGuestText(text);
      expect(bytes(cut)).to.be.at.most(MAX_GUEST_TEXT_BYTES).and.above(MAX_GUEST_TEXT_BYTES - 64);
      const [kept, count] = cut.split(" … [cut: ");
      expect(text.startsWith(kept!), unit).to.equal(true);
      expect(count).to.equal(`${text.length - kept!.length} more characters]`);
    }
  });

  it("counts the whole of a text of which only the beginning was read, and of texts joined", () => {
    expect(cutGuestText({ head: "abc", length: 180_000_000 })).to.equal("abc … [cut: 179999997 more characters]");
    const message = { head: "x".repeat(MAX_GUEST_TEXT_BYTES), length: 180_000_000 };
    const joined = joinGuestText("Error: ", message, " (and after)");
    expect(joined.length).to.equal(7 + 180_000_000 + 12);
    const cut = cutGuestText(joined);
    expect(bytes(cut)).to.be.at.most(MAX_GUEST_TEXT_BYTES);
    expect(cut).to.match(/^Error: x+ … \[cut: \d+ more characters\]$/);
    expect(cutGuestText(joinGuestText("a", "b"))).to.equal("ab");
  });

  it("a wasm guest's printed line is cut when it ends", () => {
    const output = new GuestOutput();
    output.write("info", Buffer.from(`${"y".repeat(100_000)}\nshort\n`));
    const [long, short] = output.drain();
    expect(bytes(long!.message)).to.be.at.most(MAX_GUEST_TEXT_BYTES);
    expect(long!.message).to.match(/ … \[cut: \d+ more characters\]$/);
    expect(short!.message).to.equal("short");
  });
});
