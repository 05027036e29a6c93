import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "./problem.js";

/** Who a request acts for. Without tokens configured, every request is the one anonymous owner. */
export const ANONYMOUS = "";

const OWNER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Bearer tokens (RFC 6750 token68 characters), long enough not to be guessed. */
const TOKEN = /^[A-Za-z0-9._~+/-]{16,256}=*$/;

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * The tokens a server accepts, each naming its owner. A token is compared by its SHA-256 in
 * constant time, so a wrong guess learns nothing from the time it took.
 */
export class Tokens {
  private readonly owners: { readonly digest: Buffer; readonly owner: string }[];

  /** `tokens`: owner name -> token. Empty: no authentication (one anonymous owner). */
  constructor(tokens: Readonly<Record<string, string>>) {
    this.owners = Object.entries(tokens).map(([owner, token]) => {
      if (!OWNER_NAME.test(owner)) throw new RangeError(`owner '${owner}': expected 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
      if (!TOKEN.test(token)) throw new RangeError(`the token of '${owner}': expected 16 to 256 characters of A-Z a-z 0-9 - . _ ~ + /`);
      return { digest: digest(token), owner };
    });
    const seen = new Set(this.owners.map((o) => o.digest.toString("hex")));
    if (seen.size !== this.owners.length) throw new RangeError("two owners have the same token");
  }

  get required(): boolean {
    return this.owners.length > 0;
  }

  /** The owner an `Authorization` header names; throws HttpError 401 when tokens are required and it names none. */
  ownerOf(authorization: string | undefined): string {
    if (!this.required) return ANONYMOUS;
    const match = /^Bearer ([^\s]{1,256})$/.exec(authorization ?? "");
    if (match === null) throw new HttpError(401, "invalid_state", "this server needs 'Authorization: Bearer <token>'");
    const given = digest(match[1]!);
    let owner: string | undefined;
    // Every token is compared, whichever matches, so the time does not say which one did.
    for (const o of this.owners) if (timingSafeEqual(o.digest, given)) owner = o.owner;
    if (owner === undefined) throw new HttpError(401, "invalid_state", "the bearer token is not one this server knows");
    return owner;
  }
}
