/**
 * A rate as operators write it: `60/min`, `10/s`, `1000/h` (the contract's N/s|N/min|N/h), or
 * with a window of several units, `20/5min`.
 */
export interface Rate {
  points: number;
  durationSeconds: number;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, sec: 1, min: 60, h: 3600 };

/** Windows longer than a day would keep a counter (and a refusal) for longer than anyone expects. */
const MAX_WINDOW_SECONDS = 86_400;

/** Parses `N/s`, `N/min`, `N/h` or `N/<k><unit>`; throws an Error whose message says what was wrong. */
export function parseRate(text: string): Rate {
  const match = /^\s*(\d{1,7})\s*\/\s*(\d{1,5})?\s*(s|sec|min|h)\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a rate: write N/s, N/min or N/h, e.g. 60/min`);
  const points = Number(match[1]);
  if (points < 1) throw new Error(`"${text}" allows nothing: the count must be at least 1`);
  const durationSeconds = Number(match[2] ?? 1) * UNIT_SECONDS[match[3]!]!;
  if (durationSeconds < 1 || durationSeconds > MAX_WINDOW_SECONDS)
    throw new Error(`"${text}" has a window of ${durationSeconds} seconds: it must be between 1 second and 24 hours`);
  return { points, durationSeconds };
}

/** The shortest spelling parseRate reads back: `10/s`, `60/min`, `1000/h`, `20/5min`, `5/90s`. */
export function formatRate(rate: Rate): string {
  const { points, durationSeconds: seconds } = rate;
  const [count, unit] =
    seconds % 3600 === 0 ? [seconds / 3600, 'h'] : seconds % 60 === 0 ? [seconds / 60, 'min'] : [seconds, 's'];
  return `${points}/${count === 1 ? '' : count}${unit}`;
}
