/** A FAT timestamp: date and time words (local time, 2-second resolution) and the 10 ms creation extra. */
export interface DosTime {
  readonly date: number;
  readonly time: number;
  /** 0..199: hundredths of a second beyond the 2-second time (creation time only). */
  readonly tenths: number;
}

const FIRST_YEAR = 1980;
const LAST_YEAR = 2107;

/**
 * Which clock time a FAT timestamp is written in: `local` (the host's time zone), as DOS,
 * Windows, Linux and mtools do; or `utc`, which does not depend on where the writer runs.
 */
export type TimeZone = "local" | "utc";

/**
 * Encodes a moment as FAT stores it, in local time or UTC. Moments outside 1980..2107 (what 7
 * bits of year can hold) are clamped to the nearest end.
 */
export function toDosTime(d: Date, zone: TimeZone = "local"): DosTime {
  const utc = zone === "utc";
  const year = utc ? d.getUTCFullYear() : d.getFullYear();
  if (year < FIRST_YEAR) return { date: (1 << 5) | 1, time: 0, tenths: 0 };
  if (year > LAST_YEAR) return { date: ((LAST_YEAR - FIRST_YEAR) << 9) | (12 << 5) | 31, time: (23 << 11) | (59 << 5) | 29, tenths: 199 };
  const [month, day, hours, minutes, seconds] = utc
    ? [d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  return {
    date: ((year - FIRST_YEAR) << 9) | ((month + 1) << 5) | day,
    time: (hours << 11) | (minutes << 5) | (seconds >> 1),
    tenths: (seconds & 1) * 100 + Math.floor(d.getMilliseconds() / 10),
  };
}

const two = (n: number): string => String(n).padStart(2, "0");

/**
 * The stored fields as `YYYY-MM-DDTHH:MM:SS` (SPEC.md §4.5: local time, no zone). Printed from
 * the fields as they are, so a damaged timestamp shows as stored rather than being corrected.
 */
export function formatDosTime(date: number, time: number): string {
  const y = FIRST_YEAR + (date >> 9);
  return `${y}-${two((date >> 5) & 15)}-${two(date & 31)}T${two(time >> 11)}:${two((time >> 5) & 63)}:${two((time & 31) * 2)}`;
}
