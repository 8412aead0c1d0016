import { z } from 'zod';
import { optionalBoolean } from './wire-fields.js';

/** POST /keys/rotate */
export const rotateKeysBody = z
  .strictObject({
    force: optionalBoolean().meta({
      description: 'rotate even though the next key was published too recently for every cache to hold it',
    }),
  })
  .transform((body) => ({ force: body.force ?? false }));
export type RotateKeysInput = z.output<typeof rotateKeysBody>;
