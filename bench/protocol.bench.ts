import type { BenchSection } from "./harness.js";
export async function run(): Promise<BenchSection[]> {
  return [];
}
