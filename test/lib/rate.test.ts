import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRate, parseRate } from '../../src/lib/rate.js';

describe('parseRate', () => {
  it('reads N/s, N/min, N/h and windows of several units', () => {
    expect(parseRate('10/s')).toEqual({ points: 10, durationSeconds: 1 });
    expect(parseRate(' 60 / min ')).toEqual({ points: 60, durationSeconds: 60 });
    expect(parseRate('1000/h')).toEqual({ points: 1000, durationSeconds: 3600 });
    expect(parseRate('20/5min')).toEqual({ points: 20, durationSeconds: 300 });
    expect(parseRate('5/90s')).toEqual({ points: 5, durationSeconds: 90 });
  });

  it('refuses what is not a rate, saying how to write one', () => {
    for (const text of ['', '10', '/s', '10/', '10/day', '-1/s', '1.5/s', '10/m', 'ten/s', '10/s/s'])
      expect(() => parseRate(text), text).toThrow(/is not a rate: write N\/s, N\/min or N\/h/);
    expect(() => parseRate('0/s')).toThrow(/at least 1/);
    expect(() => parseRate('5/0min')).toThrow(/between 1 second and 24 hours/);
    expect(() => parseRate('5/25h')).toThrow(/between 1 second and 24 hours/);
  });
});

describe('formatRate', () => {
  it('writes the shortest spelling, which parseRate reads back', () => {
    expect(formatRate({ points: 10, durationSeconds: 1 })).toBe('10/s');
    expect(formatRate({ points: 60, durationSeconds: 60 })).toBe('60/min');
    expect(formatRate({ points: 3, durationSeconds: 3600 })).toBe('3/h');
    expect(formatRate({ points: 20, durationSeconds: 300 })).toBe('20/5min');
    expect(formatRate({ points: 5, durationSeconds: 90 })).toBe('5/90s');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9_999_999 }), fc.integer({ min: 1, max: 86_400 }), (points, seconds) => {
        const rate = { points, durationSeconds: seconds };
        expect(parseRate(formatRate(rate))).toEqual(rate);
      }),
    );
  });
});
