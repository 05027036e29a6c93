import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import { cutGuestText, joinGuestText, MAX_GUEST_TEXT_BYTES, type GuestText } from "../guest-text.js";

/** What a value thrown inside QuickJS says about itself. */
export interface Thrown {
  readonly name?: GuestText;
  readonly message: GuestText;
  readonly stack?: GuestText;
}

const UNREADABLE = "threw a value that cannot be read";

/**
 * Reads a guest's text out of its QuickJS context within MAX_GUEST_TEXT_BYTES: a longer string
 * is sliced inside QuickJS first, so that the host never copies a guest's 180 MB message. It
 * uses String.prototype.slice and JSON.stringify as they were when the realm was made, before
 * any guest code ran, so that a guest cannot replace them.
 */
export class QuickJsText {
  private constructor(
    private readonly context: QuickJSContext,
    private readonly slice: QuickJSHandle,
    private readonly stringify: QuickJSHandle,
  ) {}

  /** Takes the functions it uses from a context no guest code has run in yet. */
  static take(context: QuickJSContext): QuickJsText {
    const from = (holder: QuickJSHandle, key: string) => context.getProp(holder, key);
    const string = from(context.global, "String");
    const proto = from(string, "prototype");
    const json = from(context.global, "JSON");
    try {
      return new QuickJsText(context, from(proto, "slice"), from(json, "stringify"));
    } finally {
      for (const h of [string, proto, json]) h.dispose();
    }
  }

  /** The handles it holds, for the realm to free with its host functions. */
  get handles(): QuickJSHandle[] {
    return [this.slice, this.stringify];
  }

  /** A string's text, cut to MAX_GUEST_TEXT_BYTES; "" for a value that is not a string. */
  string(handle: QuickJSHandle): string {
    return cutGuestText(this.read(handle));
  }

  /** A string's first MAX_GUEST_TEXT_BYTES characters (all a cut text can keep), and its length. */
  read(handle: QuickJSHandle): GuestText {
    const ctx = this.context;
    if (ctx.typeof(handle) !== "string") return { head: "", length: 0 };
    const lengthHandle = ctx.getProp(handle, "length");
    const length = ctx.getNumber(lengthHandle);
    lengthHandle.dispose();
    if (length <= MAX_GUEST_TEXT_BYTES) return { head: ctx.getString(handle), length };
    const [start, end] = [ctx.newNumber(0), ctx.newNumber(MAX_GUEST_TEXT_BYTES)];
    const part = ctx.callFunction(this.slice, handle, start, end);
    start.dispose();
    end.dispose();
    if (part.error) {
      part.error.dispose();
      return { head: "", length };
    }
    try {
      return { head: ctx.getString(part.value), length };
    } finally {
      part.value.dispose();
    }
  }

  /**
   * What a thrown value says: an object's `name`, `message` and `stack` (its JSON when it has no
   * message), a ZkguestError's `code`, a primitive's value. Reading an object's properties may
   * run guest code (getters, toJSON), which the interrupt handler still bounds.
   */
  thrown(error: QuickJSHandle): Thrown {
    const ctx = this.context;
    try {
      const type = ctx.typeof(error);
      if (type === "string") return { message: joinGuestText('threw "', this.read(error), '"') };
      if (type === "symbol" || type === "bigint") return { message: joinGuestText(`threw a ${type}`) };
      if (type !== "object" && type !== "function") return { message: joinGuestText(`threw ${String(ctx.dump(error))}`) };
      if (ctx.sameValue(error, ctx.null)) return { message: joinGuestText("threw null") };
      const name = this.property(error, "name");
      const message = this.property(error, "message") ?? this.json(error) ?? joinGuestText(UNREADABLE);
      const code = this.property(error, "code");
      const stack = this.property(error, "stack");
      return {
        ...(name === undefined ? {} : { name }),
        // A ZkguestError from the SDK carries its protocol code: keep it in the message.
        message: code === undefined ? message : joinGuestText("[", code, "] ", message),
        ...(stack?.length ? { stack } : {}),
      };
    } catch {
      return { message: joinGuestText(UNREADABLE) };
    }
  }

  /** A property's text if it is a string. */
  private property(object: QuickJSHandle, key: string): GuestText | undefined {
    const value = this.context.getProp(object, key);
    try {
      return this.context.typeof(value) === "string" ? this.read(value) : undefined;
    } finally {
      value.dispose();
    }
  }

  /** The value as JSON, if it has a JSON form. */
  private json(value: QuickJSHandle): GuestText | undefined {
    const text = this.context.callFunction(this.stringify, this.context.undefined, value);
    if (text.error) {
      text.error.dispose();
      return undefined;
    }
    try {
      return this.context.typeof(text.value) === "string" ? this.read(text.value) : undefined;
    } finally {
      text.value.dispose();
    }
  }
}
