import { parentPort } from "node:worker_threads";
import { Lru } from "../lru.js";
import { GuestSourceMap, MAX_SOURCE_MAP_SEGMENTS } from "./map.js";

/**
 * The source-map worker thread (mapper.ts starts it): decodes programs' maps and maps their
 * stacks, off the host's event loop. It keeps what it decoded, by program id, so that a program
 * that keeps failing pays for decoding once while its map stays here.
 */

/** Host to worker: map these stacks by this program's map. */
export interface MapRequest {
  readonly id: number;
  readonly program: string;
  readonly map: Uint8Array;
  readonly stacks: readonly string[];
}

/** Worker to host: the stacks mapped, in order (as they were where the map does not apply). */
export interface MapResponse {
  readonly id: number;
  readonly stacks: readonly string[];
}

/** Decoded maps kept, in segments: two of the largest, or a hundred of a small guest's (a map the host does not use is remembered as such). */
const CACHE_SEGMENTS = 2 * MAX_SOURCE_MAP_SEGMENTS;

const decoded = new Lru<string, GuestSourceMap | null>(CACHE_SEGMENTS, undefined, (map) => map?.segments ?? 1);

function mapFor(program: string, bytes: Uint8Array): GuestSourceMap | null {
  let map = decoded.get(program);
  if (map === undefined) {
    map = GuestSourceMap.read(bytes) ?? null;
    decoded.set(program, map);
  }
  return map;
}

parentPort!.on("message", ({ id, program, map, stacks }: MapRequest) => {
  const guestMap = mapFor(program, map);
  const response: MapResponse = { id, stacks: guestMap === null ? stacks : stacks.map((stack) => guestMap.mapStack(stack)) };
  parentPort!.postMessage(response);
});
