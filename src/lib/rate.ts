/** A rate as operators write it: `60/min`, `10/s`, `1000/h` (the contract's N/s|N/min|N/h). */
export interface Rate {
  points: number;
  durationSeconds: number;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, sec: 1, min: 60, h: 3600 };

/** Parses `N/s`, `N/min` or `N/h`; throws an Error whose message says what was wrong. */
export function parseRate(text: string): Rate {
  const match = /^\s*(\d{1,7})\s*\/\s*(s|sec|min|h)\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a rate: write N/s, N/min or N/h, e.g. 60/min`);
  const points = Number(match[1]);
  if (points < 1) throw new Error(`"${text}" allows nothing: the count must be at least 1`);
  return { points, durationSeconds: UNIT_SECONDS[match[2]!]! };
}

export function formatRate(rate: Rate): string {
  const unit =
    rate.durationSeconds === 3600
      ? 'h'
      : rate.durationSeconds === 60
        ? 'min'
        : rate.durationSeconds === 1
          ? 's'
          : `${rate.durationSeconds}s`;
  return `${rate.points}/${unit}`;
}
