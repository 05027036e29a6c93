import { fail, isLeft, ok, type Result } from "./result.js";
import { nameKey, parseShortName, type ShortName } from "./short-name.js";

/** One resolved component: as the caller wrote it (for messages), its stored bytes, and its index key. */
export interface Component {
  readonly text: string;
  readonly name: ShortName;
  readonly key: string;
}

/**
 * Resolves an absolute '/'-separated path lexically (SPEC.md §4.4): '.' is dropped, '..' removes
 * the previous component and is an error at the root, never an escape. Every other component
 * must be a valid 8.3 name. The root is the empty list.
 */
export function parsePath(path: string): Result<Component[]> {
  if (!path.startsWith("/")) return fail("invalid_path", `'${path}' is not absolute: paths on the volume start with '/'`);
  const out: Component[] = [];
  if (path === "/") return ok(out);
  const parts = path.slice(1).split("/");
  for (let i = 0; i < parts.length; i++) {
    const text = parts[i]!;
    if (text === "") {
      const where = i === parts.length - 1 ? "after the last '/'" : "between two '/'";
      return fail("invalid_name", `${path}: empty component ${where}; every component needs a name`);
    }
    if (text === ".") continue;
    if (text === "..") {
      if (out.length === 0) return fail("invalid_path", `${path}: '..' goes above the root`);
      out.pop();
      continue;
    }
    const name = parseShortName(text);
    if (isLeft(name)) return name;
    out.push({ text, name: name.right, key: nameKey(name.right) });
  }
  return ok(out);
}

/** The canonical text of resolved components: "/VAR/SHARE" style keys joined, for messages. */
export function joinPath(components: readonly Component[]): string {
  return "/" + components.map((c) => c.text).join("/");
}
