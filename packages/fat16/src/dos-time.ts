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
 * Encodes a moment as FAT stores it: local time, as DOS, Windows, Linux and mtools do.
 * Moments outside 1980..2107 (what 7 bits of year can hold) are clamped to the nearest end.
 */
export function toDosTime(d: Date): DosTime {
  const year = d.getFullYear();
  if (year < FIRST_YEAR) return { date: (1 << 5) | 1, time: 0, tenths: 0 };
  if (year > LAST_YEAR) return { date: ((LAST_YEAR - FIRST_YEAR) << 9) | (12 << 5) | 31, time: (23 << 11) | (59 << 5) | 29, tenths: 199 };
  return {
    date: ((year - FIRST_YEAR) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    tenths: (d.getSeconds() & 1) * 100 + Math.floor(d.getMilliseconds() / 10),
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
